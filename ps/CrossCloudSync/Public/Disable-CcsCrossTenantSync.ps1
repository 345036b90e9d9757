function Disable-CcsCrossTenantSync {
    <#
    .SYNOPSIS
    Removes what Enable-CcsCrossTenantSync created, in reverse order.

    .DESCRIPTION
    Wraps 'ccsync xts disable'. Deletes the sync job, the configuration (service principal and application)
    in the source, then the target's inbound user sync setting; with -Policies also the partner entries that
    hold only what enable sets (entries with B2B or trust settings are kept), and the cloud setting when no
    partner is left. Users already synchronized stay in the
    target, as Entra leaves them. With -WhatIf every call that would write is shown as a 'What if' line and nothing is written; otherwise
    PowerShell asks for confirmation (ConfirmImpact High) unless -Confirm:$false is given. Emits one object
    per call with its Status.
    Needs application permissions: source Application.ReadWrite.All, Synchronization.ReadWrite.All; target
    Policy.ReadWrite.CrossTenantAccess.

    .PARAMETER Source
    Profile of the source tenant.

    .PARAMETER Target
    Profile of the target tenant.

    .PARAMETER Name
    The configuration's name; default 'ccsync to <target tenant id>'.

    .PARAMETER Policies
    Also delete the partner entries enable made (entries with other B2B settings are kept).

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Disable-CcsCrossTenantSync -Source contoso-ccsync -Target fabrikamfederal -WhatIf

    Lists what would be removed, writing nothing.

    .LINK
    Enable-CcsCrossTenantSync

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $Source,

        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $Target,

        [string] $Name,

        [switch] $Policies,

        [string] $ConfigPath
    )

    if ($WhatIfPreference) {
        # ccsync lists every call and writes nothing; one 'What if' line per call that would write.
        $document = Invoke-CcsCli -Command 'xts disable' -Arguments @('--what-if') -BoundParameters $PSBoundParameters
        foreach ($call in @($document.calls | Where-Object state -ne 'read')) {
            $null = $PSCmdlet.ShouldProcess("$($call.tenant) tenant $($call.tenantId): $($call.method) $($call.path)", $call.purpose)
        }
        return
    }
    if (-not $PSCmdlet.ShouldProcess("tenants of profiles '$Source' and '$Target'", 'Remove cross-tenant synchronization')) {
        return
    }
    $document = Invoke-CcsCli -Command 'xts disable' -Arguments @('--yes') -BoundParameters $PSBoundParameters
    foreach ($call in $document.sent) {
        [PSCustomObject]@{
            PSTypeName = 'CrossCloudSync.SyncSetupCall'
            Kind       = 'Call'
            Tenant     = $call.tenant
            TenantId   = $call.tenantId
            Method     = $call.method
            Path       = $call.path
            Purpose    = $call.purpose
            Status     = $call.state
        }
    }
}
