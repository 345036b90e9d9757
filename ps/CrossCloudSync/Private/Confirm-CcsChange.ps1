function Confirm-CcsChange {
    <#
    .SYNOPSIS
    Asks the calling cmdlet's ShouldProcess for one item (a user, a configuration step) and says whether to go on.

    .DESCRIPTION
    The per-item question of the cmdlets that change a tenant: $Cmdlet.ShouldProcess(Target, Action) of the
    calling cmdlet, so -WhatIf, -Confirm, $ConfirmPreference, 'Yes to All' and 'No to All' behave as for any
    cmdlet. One function, so the Pester tests can play an admin who approves some items and declines others
    (PowerShell's own prompt cannot be answered from a test).

    .PARAMETER Cmdlet
    The calling cmdlet's $PSCmdlet.

    .PARAMETER Target
    What is changed: the user, or the tenant a configuration step writes to.

    .PARAMETER Action
    What is done to it: the operation and its summary, or the step's description.

    .EXAMPLE
    if (Confirm-CcsChange -Cmdlet $PSCmdlet -Target 'a@fabrikam.us' -Action 'create') { $approved.Add('cre-1') }
    #>
    [CmdletBinding()]
    [OutputType([bool])]
    param(
        [Parameter(Mandatory)]
        [System.Management.Automation.PSCmdlet] $Cmdlet,

        [Parameter(Mandatory)]
        [string] $Target,

        [Parameter(Mandatory)]
        [string] $Action
    )

    $Cmdlet.ShouldProcess($Target, $Action)
}
