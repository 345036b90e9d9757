function Invoke-CcsCli {
    <#
    .SYNOPSIS
    Runs one ccsync command with --output json and returns its JSON answer as objects.

    .DESCRIPTION
    Every CrossCloudSync cmdlet goes through this function. It finds the ccsync executable ($env:CCSYNC_EXE,
    else 'ccsync' on PATH), runs "ccsync <Command> <Arguments> --output json", passes ccsync's messages
    (stderr) to the verbose stream, and parses stdout, which holds exactly one JSON document.
    A non-zero exit code becomes a terminating error carrying ccsync's message and hint; when ccsync still
    returned a result document (exit 1: the work found problems), that document is the error's TargetObject.
    Secrets are never passed on the command line: ccsync reads them from environment variables or a prompt,
    and this function refuses arguments that look like a secret option.

    .PARAMETER Command
    The ccsync command path, as listed by 'ccsync commands', e.g. 'clouds' or 'clouds detect'.

    .PARAMETER Arguments
    Arguments and options after the command path, e.g. 'contoso.com', '--login-url', 'https://...'.

    .EXAMPLE
    Invoke-CcsCli -Command 'clouds detect' -Arguments 'contoso.onmicrosoft.com'

    Returns the detection document ccsync prints for that tenant.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $Command,

        [Parameter(Position = 1)]
        [AllowEmptyCollection()]
        [string[]] $Arguments = @()
    )

    foreach ($argument in $Arguments) {
        if ($argument -match '^--?(client[-_]?)?(secret|password|token)\b') {
            $exception = [System.ArgumentException]::new(
                "Refusing to pass '$argument' to ccsync: secrets never go on a command line. " +
                'Put the secret in the environment variable named by the profile (secret_env).')
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    $exception, 'Ccsync.SecretOnCommandLine', 'InvalidArgument', $argument))
        }
    }

    $exe = $env:CCSYNC_EXE
    if (-not $exe) {
        $found = Get-Command -Name 'ccsync' -CommandType Application -ErrorAction SilentlyContinue |
            Select-Object -First 1
        if ($found) { $exe = $found.Source }
    }
    if (-not $exe) {
        $exception = [System.IO.FileNotFoundException]::new(
            "The ccsync command was not found. Install it (pip install ccsync, or pip install . in a clone) " +
            'and put it on PATH, or set $env:CCSYNC_EXE to its full path.')
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                $exception, 'Ccsync.ExecutableNotFound', 'ObjectNotFound', 'ccsync'))
    }

    $allArguments = @($Command -split '\s+' | Where-Object { $_ }) + @($Arguments) + @('--output', 'json')
    Write-Verbose -Message ("ccsync " + ($allArguments -join ' '))

    $stdoutLines = [System.Collections.Generic.List[string]]::new()
    $stderrLines = [System.Collections.Generic.List[string]]::new()
    $previousEncoding = [Console]::OutputEncoding
    $previousPythonEncoding = $env:PYTHONIOENCODING
    try {
        # ccsync writes UTF-8; read it as UTF-8 whatever the console's code page is.
        [Console]::OutputEncoding = [System.Text.UTF8Encoding]::new($false)
        $env:PYTHONIOENCODING = 'utf-8'
        & $exe @allArguments 2>&1 | ForEach-Object {
            if ($_ -is [System.Management.Automation.ErrorRecord]) {
                $line = $_.ToString()
                $stderrLines.Add($line)
                Write-Verbose -Message $line
            }
            else {
                $stdoutLines.Add([string]$_)
            }
        }
        $exitCode = $LASTEXITCODE
    }
    finally {
        [Console]::OutputEncoding = $previousEncoding
        $env:PYTHONIOENCODING = $previousPythonEncoding
    }

    $document = $null
    $text = ($stdoutLines -join "`n").Trim()
    if ($text) {
        try {
            $document = $text | ConvertFrom-Json -Depth 100
        }
        catch {
            $exception = [System.FormatException]::new(
                "ccsync $Command did not answer with JSON (exit code $exitCode): $($_.Exception.Message)")
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    $exception, 'Ccsync.InvalidJson', 'InvalidResult', $text))
        }
    }

    if ($exitCode -ne 0) {
        $hasError = $null -ne $document -and $document.PSObject.Properties.Name -contains 'error'
        if ($hasError) {
            $message = [string]$document.message
            $errorName = [string]$document.error
        }
        else {
            $errorLines = @($stderrLines | Where-Object { $_ -match '^(Error|Internal error)' })
            $message = if ($errorLines) { $errorLines -join ' ' } else { ($stderrLines | Select-Object -Last 3) -join ' ' }
            if (-not $message) { $message = "ccsync $Command exited with code $exitCode." }
            $errorName = if ($exitCode -eq 2) { 'UsageError' } else { 'ProblemsFound' }
        }
        $message = $message -replace '^Error:\s*', ''
        $category = if ($exitCode -eq 2) { 'InvalidArgument' } else { 'InvalidOperation' }
        $target = if ($null -ne $document -and -not $hasError) { $document } else { "ccsync $Command" }
        $record = [System.Management.Automation.ErrorRecord]::new(
            [System.InvalidOperationException]::new($message), "Ccsync.$errorName", $category, $target)
        if ($hasError -and $document.PSObject.Properties.Name -contains 'hint') {
            $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($message)
            $record.ErrorDetails.RecommendedAction = [string]$document.hint
        }
        $PSCmdlet.ThrowTerminatingError($record)
    }

    $document
}
