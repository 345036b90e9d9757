function Invoke-CcsCli {
    <#
    .SYNOPSIS
    Runs one ccsync command and returns its answer as objects: the single entry every public cmdlet calls.

    .DESCRIPTION
    Every CrossCloudSync cmdlet goes through this function, whichever way the session reaches ccsync
    (in-process through pythonnet, or the ccsync CLI with --output json: see Get-CcsBridge). It builds the
    arguments from the calling cmdlet's bound parameters (-BoundParameters, by the rule in
    CrossCloudSync.ParameterMap.psd1) and/or takes them as given (-Arguments), refuses anything that looks like
    a secret on a command line, runs the command (Invoke-CcsEngine), and turns failures into ErrorRecords with
    ccsync's message, an error id (Ccsync.<ErrorClass>), a category and the hint as the recommended action.

    Exit code 1 with a result means the work found problems (users not eligible, operations that failed):
    with -ProblemsAsResult that result is the answer; with -Problem the result is returned and the ErrorRecord
    handed back through the reference, for the cmdlet to write after emitting the result's items; otherwise it
    is a terminating error whose TargetObject is the result.

    .PARAMETER Command
    The ccsync command path, as listed by 'ccsync commands', e.g. 'clouds' or 'clouds detect'.

    .PARAMETER Arguments
    Arguments and options after the command path, e.g. 'contoso.com', '--login-url', 'https://...'.

    .PARAMETER BoundParameters
    The calling cmdlet's $PSBoundParameters, turned into options by the module's naming rule (after Arguments).

    .PARAMETER ProblemsAsResult
    Exit code 1 with a result document is a normal answer (e.g. eligibility: some users are not eligible).

    .PARAMETER Problem
    A [ref] that receives the ErrorRecord for exit code 1 with a result document; the document is returned.

    .EXAMPLE
    Invoke-CcsCli -Command 'clouds detect' -Arguments 'contoso.onmicrosoft.com'

    Returns the detection document ccsync gives for that tenant.

    .EXAMPLE
    Invoke-CcsCli -Command 'eligibility' -BoundParameters $PSBoundParameters -ProblemsAsResult

    What Get-CcsLicenseEligibility does.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $Command,

        [Parameter(Position = 1)]
        [AllowEmptyCollection()]
        [string[]] $Arguments = @(),

        [System.Collections.IDictionary] $BoundParameters,

        [switch] $ProblemsAsResult,

        [ref] $Problem
    )

    $all = @($Arguments)
    if ($BoundParameters) {
        $caller = (Get-PSCallStack)[1].Command
        $all += ConvertTo-CcsCliArgument -CmdletName $caller -BoundParameters $BoundParameters
    }
    foreach ($argument in $all) {
        if ($argument -match '^--?(client[-_]?)?(secret|password|token)\b') {
            $record = New-CcsErrorRecord -Message "Refusing to pass '$argument' to ccsync: secrets never go on a command line." `
                -ErrorId 'Ccsync.SecretOnCommandLine' -Category InvalidArgument -TargetObject $argument `
                -Hint 'Put the secret in the environment variable named by the profile (secret_env).' `
                -Exception ([System.ArgumentException]::new("Refusing to pass '$argument' to ccsync: secrets never go on a command line."))
            $PSCmdlet.ThrowTerminatingError($record)
        }
    }
    Write-Verbose -Message ("ccsync $Command " + ($all -join ' '))

    $outcome = Invoke-CcsEngine -Command $Command -Arguments $all
    $document = $outcome.Document
    if ($outcome.Error) {
        $e = $outcome.Error
        $target = if ($null -ne $document) { $document } else { "ccsync $Command" }
        $record = New-CcsErrorRecord -Message $e.Message -ErrorId $e.ErrorId -Category $e.Category -TargetObject $target -Hint $e.Hint -Exception $e.Exception
        $PSCmdlet.ThrowTerminatingError($record)
    }
    if ($outcome.ExitCode -ne 0) {
        $record = New-CcsErrorRecord -Message "ccsync $Command found problems (exit code $($outcome.ExitCode)); the result lists them." `
            -ErrorId 'Ccsync.ProblemsFound' -Category InvalidResult -TargetObject $document
        if ($ProblemsAsResult -and $null -ne $document) { return $document }
        if ($Problem -and $null -ne $document) {
            $Problem.Value = $record
            return $document
        }
        $PSCmdlet.ThrowTerminatingError($record)
    }
    $document
}
