function Start-CcsCrossTenantSync {
    <#
    .SYNOPSIS
    Starts or resumes Entra's cross-tenant sync job.

    .DESCRIPTION
    Wraps 'ccsync xts start'. Starts the job; cycles then run on Entra's fixed schedule (about every 40 minutes). With -WhatIf the call is shown as a 'What if' line and nothing is sent; otherwise
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
    Start-CcsCrossTenantSync -Source contoso-ccsync -Confirm:$false

    Start the sync job of the Contoso configuration.

    .LINK
    Suspend-CcsCrossTenantSync

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
        $document = Invoke-CcsCli -Command 'xts start' -Arguments @('--what-if') -BoundParameters $PSBoundParameters
        $null = $PSCmdlet.ShouldProcess("$where ($($document.jobId))", "Start the sync job: $($document.call.method) $($document.call.path)")
        return
    }
    if (-not $PSCmdlet.ShouldProcess($where, 'Start the sync job')) {
        return
    }
    $document = Invoke-CcsCli -Command 'xts start' -Arguments @() -BoundParameters $PSBoundParameters
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
