function Enable-CcsCrossTenantSync {
    <#
    .SYNOPSIS
    Sets up Entra's own cross-tenant / cross-cloud synchronization in both tenants, idempotently.

    .DESCRIPTION
    Wraps 'ccsync xts enable'. In the documented order, each call on its own cloud's Graph: the target's
    Microsoft cloud settings, partner entry, inbound user sync and inbound automatic redemption; the source's
    cloud settings, partner entry, outbound automatic redemption, the sync configuration from its template,
    test connection, the Azure2Azure job, its secrets, the scoping groups' assignments, start. Existing
    settings are read first and only what differs is written: a second run sends no write. Steps Microsoft
    documents only in the portal are emitted as ManualStep objects with their verification status (never
    claimed done without evidence). With -WhatIf every call that would write is shown as a 'What if' line;
    nothing is written or emitted.

    Changing two tenants asks for confirmation (ConfirmImpact High) per configuration step that still has
    calls to make (target: the tenant; action: the step and its calls), unless -Confirm:$false is given. Only
    the approved steps run ('ccsync xts enable --step ...'); declined steps emit nothing, and a later step that
    needs a declined one is not run either (a warning says which and why). Emits one object per call (Kind
    'Call') and per manual step (Kind 'ManualStep'). If the setup stops part-way (for example at a portal step
    not done yet), it emits each step done and each step left (Kind 'Step'), then the error.
    Needs application permissions: source Policy.ReadWrite.CrossTenantAccess, Application.ReadWrite.All,
    Synchronization.ReadWrite.All, AppRoleAssignment.ReadWrite.All, Group.Read.All; target
    Policy.ReadWrite.CrossTenantAccess.

    .PARAMETER Source
    Profile of the source tenant (users are copied from it; the job lives there).

    .PARAMETER Target
    Profile of the target tenant (users are copied into it).

    .PARAMETER Group
    Scoping group names (or ids) in the source; their direct members are synced.

    .PARAMETER Name
    The sync configuration's name; default 'ccsync to <target tenant id>'.

    .PARAMETER DeletionThreshold
    Accidental-deletion threshold per cycle (0 turns it off). When not given, ccsync's default applies: 500.

    .PARAMETER NotifyEmail
    Address for Entra's quarantine notifications.

    .PARAMETER Force
    Change partner settings that are explicitly configured otherwise.

    .PARAMETER Step
    Run only these configuration steps (e.g. 'target.partner', 'source.start'; see 'ccsync xts enable --help'),
    each still confirmed; a step that needs an earlier step not done yet in the tenant is refused.

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Enable-CcsCrossTenantSync -Source contoso-ccsync -Target fabrikamfederal -Group CCS-Sync-Scope -WhatIf

    Lists every call enable would make in each tenant, writing nothing.

    .EXAMPLE
    Enable-CcsCrossTenantSync -Source contoso-ccsync -Target fabrikamfederal -Group CCS-Sync-Scope -Confirm:$false

    Sets the sync up without asking.

    .EXAMPLE
    Enable-CcsCrossTenantSync -Source contoso-ccsync -Target fabrikamfederal -Step target.partner, target.inboundSync

    Asks for, and runs, only the target's partner entry and inbound user sync.

    .LINK
    Get-CcsCrossTenantSyncStatus

    .LINK
    Disable-CcsCrossTenantSync

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

        [string[]] $Group = @(),

        [string] $Name,

        [ValidateRange(0, 100000)]
        [int] $DeletionThreshold,

        [string] $NotifyEmail,

        [switch] $Force,

        [ValidateNotNullOrEmpty()]
        [string[]] $Step,

        [string] $ConfigPath
    )

    $bound = [ordered]@{}
    foreach ($key in $PSBoundParameters.Keys) { $bound[$key] = $PSBoundParameters[$key] }
    if ($WhatIfPreference) {
        # ccsync lists every call and writes nothing; one 'What if' line per call that would write.
        $document = Invoke-CcsCli -Command 'xts enable' -Arguments @('--what-if') -BoundParameters $bound
        foreach ($call in @($document.calls | Where-Object state -ne 'read')) {
            $null = $PSCmdlet.ShouldProcess("$($call.tenant) tenant $($call.tenantId): $($call.method) $($call.path)", $call.purpose)
        }
        return
    }
    if ($ConfirmPreference -ne 'None') {
        # PowerShell will ask: list the steps (ccsync reads both tenants, writes nothing), ask per step with
        # calls to make, and run only the approved ones.
        $listing = Invoke-CcsCli -Command 'xts enable' -Arguments @('--what-if') -BoundParameters $bound
        $pending = @($listing.steps | Where-Object { $_.pending -and -not $_.portalOnly })
        $approved = [System.Collections.Generic.List[string]]::new()
        $notRun = @{}
        foreach ($item in $pending) {
            $missing = @($item.needs | Where-Object { $notRun.ContainsKey($_) })
            if ($missing.Count) {
                # ccsync would refuse it: what it writes to is not there yet.
                Write-Warning -Message ("Step '$($item.key)' ($($item.title)) is not run: it needs step '" + ($missing -join "', '") + "', which was not approved.")
                $notRun[$item.key] = $true
                continue
            }
            $side = $listing.($item.tenant)
            $purposes = @($listing.calls | Where-Object { $_.step -eq $item.key -and $_.state -ne 'read' } | ForEach-Object purpose)
            $target = "$($item.tenant) tenant $($side.tenantId) (profile '$($side.profile)')"
            $action = "$($item.title)" + $(if ($purposes.Count) { ': ' + ($purposes -join '; ') } else { '' })
            if (Confirm-CcsChange -Cmdlet $PSCmdlet -Target $target -Action $action) { $approved.Add([string]$item.key) }
            else { $notRun[$item.key] = $true }
        }
        if ($pending.Count -and -not $approved.Count) { return }
        if ($approved.Count -lt $pending.Count) { $bound['Step'] = [string[]]$approved }
    }
    try {
        $document = Invoke-CcsCli -Command 'xts enable' -Arguments @('--yes') -BoundParameters $bound
    }
    catch {
        # Stopped part-way (SyncSetupIncomplete): emit each step done and each step left, then the error.
        $result = $_.TargetObject
        if ($null -eq $result -or $result -is [string] -or $result.PSObject.Properties.Name -notcontains 'done') {
            $PSCmdlet.ThrowTerminatingError($_)
        }
        foreach ($line in $result.done) {
            [PSCustomObject]@{ PSTypeName = 'CrossCloudSync.SyncSetupCall'; Kind = 'Step'; Purpose = $line; Status = 'done' }
        }
        foreach ($line in $result.remaining) {
            [PSCustomObject]@{ PSTypeName = 'CrossCloudSync.SyncSetupCall'; Kind = 'Step'; Purpose = $line; Status = 'left' }
        }
        $PSCmdlet.WriteError($_)
        return
    }
    $calls = if ($document.PSObject.Properties.Name -contains 'sent') { $document.sent } else { $document.calls | Where-Object state -ne 'read' }
    foreach ($call in $calls) {
        [PSCustomObject]@{
            PSTypeName = 'CrossCloudSync.SyncSetupCall'
            Kind       = 'Call'
            Tenant     = $call.tenant
            TenantId   = $call.tenantId
            Cloud      = $call.cloud
            Step       = $call.step
            Method     = $call.method
            Path       = $call.path
            Body       = $call.body
            Purpose    = $call.purpose
            Status     = $call.state
        }
    }
    foreach ($step in $document.manualSteps) {
        [PSCustomObject]@{
            PSTypeName = 'CrossCloudSync.SyncSetupCall'
            Kind       = 'ManualStep'
            Tenant     = $step.tenant
            Step       = $step.key
            Purpose    = $step.instructions
            Status     = $step.status
            Evidence   = $step.evidence
        }
    }
}
