function New-CcsErrorRecord {
    <#
    .SYNOPSIS
    Builds the ErrorRecord for a ccsync error: its message, error id, category, target and hint.

    .DESCRIPTION
    One place for the shape of every error the module reports: the exception carries ccsync's message; the
    error id is 'Ccsync.<ErrorClass>' (Ccsync.InputError, Ccsync.GraphAuthorizationError ...), the same in both
    bridge modes; the hint (what to do) is the ErrorDetails' RecommendedAction, which PowerShell shows under
    the error.

    .PARAMETER Message
    What is wrong, as ccsync said it.

    .PARAMETER ErrorId
    The error id, e.g. Ccsync.InputError.

    .PARAMETER Category
    A System.Management.Automation.ErrorCategory name (InvalidArgument, PermissionDenied ...).

    .PARAMETER TargetObject
    What the error is about: the result document when ccsync still answered, else the command.

    .PARAMETER Hint
    How to fix it.

    .PARAMETER Exception
    The exception to carry (default: an InvalidOperationException with the message).

    .EXAMPLE
    New-CcsErrorRecord -Message 'Unknown profile contoso' -ErrorId 'Ccsync.ConfigError' -Category InvalidArgument -Hint 'Add it to the config file.'
    #>
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory)]
        [string] $Message,

        [Parameter(Mandatory)]
        [string] $ErrorId,

        [System.Management.Automation.ErrorCategory] $Category = 'NotSpecified',

        [AllowNull()]
        [object] $TargetObject,

        [AllowNull()]
        [string] $Hint,

        [AllowNull()]
        [System.Exception] $Exception
    )

    if (-not $Exception) { $Exception = [System.InvalidOperationException]::new($Message) }
    $record = [System.Management.Automation.ErrorRecord]::new($Exception, $ErrorId, $Category, $TargetObject)
    $record.ErrorDetails = [System.Management.Automation.ErrorDetails]::new($Message)
    if ($Hint) { $record.ErrorDetails.RecommendedAction = $Hint }
    $record
}
