function Suspend-CcsCrossTenantSync {
    <#
    .SYNOPSIS
    Pauses Entra's cross-tenant sync job (its state is kept).

    .DESCRIPTION
    Wraps 'ccsync xts pause'. Pauses the job; Start-CcsCrossTenantSync continues where it stopped. With -WhatIf the call is shown as a 'What if' line and nothing is sent; otherwise
    PowerShell asks for confirmation (ConfirmImpact High) unless -Confirm:$false is given. Emits one object
    with the call sent and its Status.
    Needs application permissions in the source: Application.Read.All, Synchronization.ReadWrite.All.

    .PARAMETER Source
    Profile of the source tenant (where the sync job lives).

    .PARAMETER JobId
    The sync job's id (when there are several).

    .PARAMETER Name
    The configuration's name (when there are several).

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Suspend-CcsCrossTenantSync -Source contoso-ccsync -Confirm:$false

    Pause the sync job of the Contoso configuration.

    .LINK
    Start-CcsCrossTenantSync

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

        [string] $ConfigPath
    )

    $job = if ($JobId) { "sync job $JobId" } elseif ($Name) { "sync job of configuration '$Name'" } else { 'sync job' }
    $where = "$job in the tenant of profile '$Source'"
    if ($WhatIfPreference) {
        # ccsync finds the job and shows the call, sending nothing.
        $document = Invoke-CcsCli -Command 'xts pause' -Arguments @('--what-if') -BoundParameters $PSBoundParameters
        $null = $PSCmdlet.ShouldProcess("$where ($($document.jobId))", "Pause the sync job: $($document.call.method) $($document.call.path)")
        return
    }
    if (-not $PSCmdlet.ShouldProcess($where, 'Pause the sync job')) {
        return
    }
    $document = Invoke-CcsCli -Command 'xts pause' -Arguments @() -BoundParameters $PSBoundParameters
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
