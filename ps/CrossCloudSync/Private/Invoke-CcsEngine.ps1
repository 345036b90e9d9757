function Invoke-CcsEngine {
    <#
    .SYNOPSIS
    Runs one ccsync command in the mode of this session (in-process or CLI) and returns its raw outcome.

    .DESCRIPTION
    The one function that talks to Python (and the one Pester tests mock). In-process (Initialize-CcsBridge
    loaded pythonnet): takes the GIL, calls toolkit.interop.entry.invoke with the command, its arguments, this
    session's current folder and environment and a callback for progress and messages, and converts the .NET
    answer with ConvertFrom-CcsDotNet; a ccsync error arrives as a .NET exception carrying ErrorId, Category,
    Hint. CLI: runs 'ccsync <command> <arguments> --output json' ($env:CCSYNC_EXE, ccsync on PATH, else
    'python -m toolkit.cli'), relays stderr lines as they come, and parses the one JSON document on stdout.
    Progress events go to Write-CcsProgress, messages to the verbose stream (warnings to the warning stream).

    Returns an object with Document (the result as PowerShell objects, or $null), ExitCode (0 ok, 1 problems
    found, 2 usage or input error), Error (ErrorId, Category, Message, Hint, Exception; $null when none) and
    Mode (InProcess or Cli).

    .PARAMETER Command
    The ccsync command path, as listed by 'ccsync commands' (e.g. 'clouds detect').

    .PARAMETER Arguments
    The command's arguments and options, exactly as for the ccsync executable.

    .EXAMPLE
    Invoke-CcsEngine -Command 'clouds' -Arguments @()
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [string] $Command,

        [Parameter(Position = 1)]
        [AllowEmptyCollection()]
        [string[]] $Arguments = @()
    )

    $bridge = Initialize-CcsBridge
    $activity = "ccsync $Command"
    $relay = {
        param([string] $Kind, $Value)
        if ($Kind -eq 'progress') { Write-CcsProgress -InputObject (ConvertFrom-CcsDotNet -InputObject $Value) -Activity $activity }
        elseif ("$Value" -like 'Warning: *') { Write-Warning -Message ("$Value" -replace '^Warning:\s*', '') }
        elseif ("$Value" -notmatch '^(Error|Hint|Internal error):') { Write-Verbose -Message "$Value" }
    }
    $outcome = [PSCustomObject]@{ Document = $null; ExitCode = 0; Error = $null; Mode = $bridge.Mode }
    try {
        if ($bridge.Mode -eq 'InProcess') {
            $request = [hashtable]@{
                Command          = $Command
                Arguments        = [string[]]$Arguments
                WorkingDirectory = (Get-Location -PSProvider FileSystem).ProviderPath
                Environment      = [System.Environment]::GetEnvironmentVariables()
                OnOutput         = [System.Action[string, object]]$relay
            }
            $gil = [Python.Runtime.Py]::GIL()
            try {
                $entry = [Python.Runtime.Py]::Import('toolkit.interop.entry')
                $argument = [Python.Runtime.PyObject]::FromManagedObject($request)
                $answer = $entry.InvokeMethod('invoke', [Python.Runtime.PyObject[]]@($argument)).AsManagedObject([object])
                $outcome.Document = ConvertFrom-CcsDotNet -InputObject $answer['Document']
                $outcome.ExitCode = [int]$answer['ExitCode']
            }
            catch {
                $exception = $_.Exception
                while ($exception -is [System.Management.Automation.MethodInvocationException] -and $exception.InnerException) {
                    $exception = $exception.InnerException
                }
                $data = $exception.Data
                $outcome.ExitCode = if ($data.Contains('ExitCode')) { [int]$data['ExitCode'] } else { 1 }
                $outcome.Document = if ($data.Contains('Document')) { ConvertFrom-CcsDotNet -InputObject $data['Document'] } else { $null }
                $outcome.Error = [PSCustomObject]@{
                    ErrorId   = if ($data.Contains('ErrorId')) { [string]$data['ErrorId'] } else { 'Ccsync.BridgeFailure' }
                    Category  = if ($data.Contains('Category')) { [string]$data['Category'] } else { 'NotSpecified' }
                    Message   = $exception.Message
                    Hint      = if ($data.Contains('Hint')) { [string]$data['Hint'] } else { $null }
                    Exception = $exception
                }
            }
            finally {
                $gil.Dispose()
            }
        }
        else {
            $invocation = @()
            $exe = $env:CCSYNC_EXE
            if (-not $exe) {
                $found = Get-Command -Name 'ccsync' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
                if ($found) { $exe = $found.Source }
                elseif ($bridge.Python) { $exe = $bridge.Python; $invocation = @('-m', 'toolkit.cli') }
            }
            if (-not $exe) {
                $outcome.ExitCode = 2
                $outcome.Error = [PSCustomObject]@{
                    ErrorId = 'Ccsync.ExecutableNotFound'; Category = 'ObjectNotFound'; Exception = $null
                    Message = 'The ccsync command was not found.'
                    Hint    = 'Install it (pip install ccsync, or pip install . in a clone) and put it on PATH, or set $env:CCSYNC_EXE to its full path.'
                }
                return $outcome
            }
            $allArguments = $invocation + @($Command -split '\s+' | Where-Object { $_ }) + @($Arguments) + @('--output', 'json')
            $stdoutLines = [System.Collections.Generic.List[string]]::new()
            $previousEncoding = [Console]::OutputEncoding
            $previousPythonEncoding = $env:PYTHONIOENCODING
            try {
                # ccsync writes UTF-8; read it as UTF-8 whatever the console's code page is.
                [Console]::OutputEncoding = [System.Text.UTF8Encoding]::new($false)
                $env:PYTHONIOENCODING = 'utf-8'
                & $exe @allArguments 2>&1 | ForEach-Object {
                    if ($_ -is [System.Management.Automation.ErrorRecord]) {
                        $line = $_.ToString()
                        $event = $null
                        if ($line.StartsWith('{')) {
                            try { $event = $line | ConvertFrom-Json -ErrorAction Stop } catch { $event = $null }
                        }
                        if ($event -and $event.PSObject.Properties.Name -contains 'event') { & $relay 'progress' $event }
                        else { & $relay 'message' $line }
                    }
                    else {
                        $stdoutLines.Add([string]$_)
                    }
                }
                $outcome.ExitCode = $LASTEXITCODE
            }
            finally {
                [Console]::OutputEncoding = $previousEncoding
                $env:PYTHONIOENCODING = $previousPythonEncoding
            }
            $text = ($stdoutLines -join "`n").Trim()
            if ($text) {
                try {
                    $outcome.Document = $text | ConvertFrom-Json -Depth 100
                }
                catch {
                    # Commands that print text (plan --show-default-mapping) answer with it.
                    $outcome.Document = if ($outcome.ExitCode -eq 0) { $text } else { $null }
                }
            }
            $document = $outcome.Document
            $isError = $null -ne $document -and $document -isnot [string] -and $document.PSObject.Properties.Name -contains 'error'
            if ($isError) {
                $name = [string]$document.error
                $outcome.Error = [PSCustomObject]@{
                    ErrorId   = "Ccsync.$name"
                    Category  = if ($script:CcsErrorCategories.ContainsKey($name)) { $script:CcsErrorCategories[$name] } else { 'NotSpecified' }
                    Message   = [string]$document.message
                    Hint      = if ($document.PSObject.Properties.Name -contains 'hint') { [string]$document.hint } else { $null }
                    Exception = $null
                }
                $outcome.Document = $null
            }
            elseif ($outcome.ExitCode -ne 0 -and $null -eq $document) {
                $outcome.Error = [PSCustomObject]@{
                    ErrorId = if ($outcome.ExitCode -eq 2) { 'Ccsync.UsageError' } else { 'Ccsync.Failed' }
                    Category = if ($outcome.ExitCode -eq 2) { 'InvalidArgument' } else { 'NotSpecified' }
                    Message = "ccsync $Command exited with code $($outcome.ExitCode) without an answer."
                    Hint = 'Run the same ccsync command in a terminal with -v to see why.'
                    Exception = $null
                }
            }
        }
    }
    finally {
        Write-CcsProgress -Activity $activity -Completed
    }
    $outcome
}
