function Restart-CcsCrossTenantSync {
    <#
    .SYNOPSIS
    Restarts Entra's cross-tenant sync job (lifts quarantine; optionally carries out held-back deletions).

    .DESCRIPTION
    Wraps 'ccsync xts restart'. Without switches the documented resetScope 'Watermark, Escrows, QuarantineState' is sent (the portal's 'Restart provisioning'); -ForceDeletes sends ForceDeletes (releases a TooManyDeletes quarantine by carrying out the held-back deletions), -Full sends Full. With -WhatIf the call is shown as a 'What if' line and nothing is sent; otherwise
    PowerShell asks for confirmation (ConfirmImpact High) unless -Confirm:$false is given. Emits one object
    with the call sent and its Status.
    Needs application permissions in the source: Application.Read.All, Synchronization.ReadWrite.All.

    .PARAMETER Source
    Profile of the source tenant (where the sync job lives).

    .PARAMETER JobId
    The sync job's id (when there are several).

    .PARAMETER Name
    The configuration's name (when there are several).

    .PARAMETER ForceDeletes
    Carry out the deletions held back by the accidental-deletion threshold (resetScope ForceDeletes).

    .PARAMETER Full
    Forget the job's state and re-evaluate every user (resetScope Full).

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Restart-CcsCrossTenantSync -Source contoso-ccsync -ForceDeletes -Confirm:$false

    Releases a TooManyDeletes quarantine by carrying out the deletions it held back.

    .LINK
    Get-CcsCrossTenantSyncStatus

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $Source,

        [string] $JobId,

        [string] $Name,

        [switch] $ForceDeletes,

        [switch] $Full,

        [string] $ConfigPath
    )

    $job = if ($JobId) { "sync job $JobId" } elseif ($Name) { "sync job of configuration '$Name'" } else { 'sync job' }
    $where = "$job in the tenant of profile '$Source'"
    if ($WhatIfPreference) {
        # ccsync finds the job and shows the call, sending nothing.
        $document = Invoke-CcsCli -Command 'xts restart' -Arguments @('--what-if') -BoundParameters $PSBoundParameters
        $null = $PSCmdlet.ShouldProcess("$where ($($document.jobId))", "Restart the sync job: $($document.call.method) $($document.call.path)")
        return
    }
    if (-not $PSCmdlet.ShouldProcess($where, 'Restart the sync job')) {
        return
    }
    $document = Invoke-CcsCli -Command 'xts restart' -Arguments @('--yes') -BoundParameters $PSBoundParameters
    [PSCustomObject]@{
        PSTypeName         = 'CrossCloudSync.SyncJobAction'
        Action             = $document.action
        JobId              = $document.jobId
        ServicePrincipalId = $document.servicePrincipalId
        Method             = $document.call.method
        Path               = $document.call.path
        Body               = $document.call.body
        Status             = $document.call.state
    }
}
