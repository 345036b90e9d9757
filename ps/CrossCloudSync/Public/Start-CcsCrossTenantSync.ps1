function Start-CcsCrossTenantSync {
    <#
    .SYNOPSIS
    Starts or resumes Entra's cross-tenant sync job.

    .DESCRIPTION
    Wraps 'ccsync xts start'. Starts the job; cycles then run on Entra's fixed schedule (about every 40 minutes). With -WhatIf the call is shown and nothing is sent; otherwise
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

    $arguments = @('--source', $Source)
    if ($JobId) { $arguments += @('--job', $JobId) }
    if ($Name) { $arguments += @('--name', $Name) }
    if ($ConfigPath) { $arguments += @('--config', (Resolve-Path -LiteralPath $ConfigPath).ProviderPath) }
    if (-not $PSCmdlet.ShouldProcess("sync job in the tenant of profile '$Source'", 'Start the sync job')) {
        $arguments += '--what-if'
    }
    $document = Invoke-CcsCli -Command 'xts start' -Arguments $arguments
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
