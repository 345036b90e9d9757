function Invoke-CcsSyncPlan {
    <#
    .SYNOPSIS
    Applies a reviewed sync plan to the target tenant exactly once: batched, paced, journaled and resumable.

    .DESCRIPTION
    Wraps 'ccsync apply'. ccsync verifies the plan's integrity hash and that the profile reaches the plan's
    target tenant and cloud, re-reads the target users the plan touches and skips (never overwrites) any that
    changed since the plan was made, then writes through Graph in $batch requests paced below the write quota.
    Every operation is journaled in SQLite next to the plan, so an interrupted run continues with -Resume
    without creating anyone twice. Progress is shown with Write-Progress.

    This changes the target tenant (ConfirmImpact High): PowerShell asks per operation, naming the user and
    what would be done to them (ccsync lists the operations first with a what-if check against the target,
    writing nothing), unless -Confirm:$false is given. Only the approved operations are applied
    ('ccsync apply --operation ...'); when all are approved the whole plan is applied. Declined operations are
    not applied and emit nothing. Operations piped in (objects with OperationId or OpId, and PlanFile or Path,
    such as New-CcsSyncPlan's) choose which operations of their plan are applied: New-CcsSyncPlan ... |
    Where-Object Kind -eq 'create' | Invoke-CcsSyncPlan applies just the creates. With -WhatIf, each
    operation ccsync would carry out is shown as a 'What if' line per user; nothing is written or emitted.

    A plan made by New-CcsSyncPlan -Job (the entra engine) is applied through Entra's own sync job in the
    SOURCE tenant (-Profile names its profile), as a whole (one confirmation: the job syncs its scope, not
    chosen users): the scope changes are made, the job is started (or the users provisioned on demand with
    -OnDemand) and the cycle's outcome is compared with the plan; it emits one EntraApplyRun object whose
    Users hold planned vs. observed per user. Emits one object per applied operation with its final state;
    failures carry Graph's error code, request-id and what to do, followed by a non-terminating error.

    .PARAMETER Path
    The plan file made by New-CcsSyncPlan or 'ccsync plan' (accepts PlanFile from the pipeline).

    .PARAMETER OperationId
    Apply only these operations of the plan (their opId, as New-CcsSyncPlan's OperationId shows; accepts
    OperationId or OpId from the pipeline). Each is still confirmed. Default: every operation.

    .PARAMETER ProfileName
    Profile of the target tenant (alias: Profile).

    .PARAMETER Resume
    Continue an interrupted run from its journal.

    .PARAMETER RetryFailed
    Send operations that failed in an earlier run again.

    .PARAMETER JournalPath
    Journal file; default: next to the plan.

    .PARAMETER Report
    Path of the Excel results workbook; default: next to the plan.

    .PARAMETER CsvPath
    Path of the results CSV; default: next to the plan.

    .PARAMETER Concurrency
    How many $batch requests may be in flight at once (ccsync's default: 4).

    .PARAMETER QuotaWindowScale
    Multiply Graph's quota windows by this factor; only for a simulator started with --time-scale.

    .PARAMETER AutoReconcileProxyConflict
    Restore a deleted user even if another object now holds one of its proxy addresses (Entra drops those
    addresses from the restored user). Without it such a restore fails and says so.

    .PARAMETER TrustUnsignedPlan
    Apply a plan that is not signed with your own key (unsigned, made by a colleague, or changed after it was
    signed) after you reviewed it. Schema validation and the write-time guard still apply.

    .PARAMETER OnDemand
    Entra-engine plans: provision the planned users on demand (5 requests per 10 seconds) instead of starting
    the job.

    .PARAMETER NoWait
    Entra-engine plans: start the job and return; compare planned with observed later with -VerifyOnly.

    .PARAMETER VerifyOnly
    Entra-engine plans: write nothing; only compare the plan with what the job's last run did (no
    confirmation is asked).

    .PARAMETER TimeoutSec
    Entra-engine plans: seconds to wait for the job's cycle to end (ccsync's default: 3600).

    .PARAMETER TargetProfile
    Entra-engine plans: also check the target users themselves after the cycle, through this target-tenant
    profile.

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam -WhatIf

    Shows, per user, what the plan would do to Fabrikam, writing nothing.

    .EXAMPLE
    Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam | Where-Object State -eq 'failed' | Format-Table SourceUpn, ErrorCode, Action

    Applies the plan (asking per user) and lists what failed and what to do about it.

    .EXAMPLE
    New-CcsSyncPlan -Source ./snap -Target fabrikam -OutFile plan.json | Where-Object Kind -eq 'create' | Invoke-CcsSyncPlan -Profile fabrikam

    Applies only the plan's creates, asking per user.

    .EXAMPLE
    (Invoke-CcsSyncPlan -Path entra-plan.json -Profile contoso-ccsync -TargetProfile fabrikamfederal).Users | Where-Object Match -eq $false

    Applies an entra-engine plan through the sync job (Profile is the SOURCE tenant's), waits for the cycle and
    lists the users whose outcome differs from the plan.

    .LINK
    New-CcsSyncPlan

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('PlanFile')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('OpId')]
        [string[]] $OperationId,

        [Parameter(Mandatory)]
        [Alias('Profile')]
        [ValidateNotNullOrEmpty()]
        [string] $ProfileName,

        [switch] $Resume,

        [switch] $RetryFailed,

        [string] $JournalPath,

        [string] $Report,

        [string] $CsvPath,

        [ValidateRange(1, 16)]
        [int] $Concurrency,

        [double] $QuotaWindowScale,

        [switch] $AutoReconcileProxyConflict,

        [switch] $TrustUnsignedPlan,

        [switch] $OnDemand,

        [switch] $NoWait,

        [switch] $VerifyOnly,

        [ValidateRange(0, [int]::MaxValue)]
        [int] $TimeoutSec,

        [string] $TargetProfile,

        [string] $ConfigPath
    )

    begin {
        # Plan file -> the parameters of its first item and the operations chosen (all, when any item chose none).
        $plans = [ordered]@{}
        # An entra-engine plan's answer: one run object; Users holds planned vs. observed per user.
        $entraRun = {
            param($document)
            [PSCustomObject]@{
                PSTypeName         = 'CrossCloudSync.EntraApplyRun'
                Run                = $document.run
                StartedAt          = $document.startedAt
                CycleEnded         = $document.cycleEnded
                ScopeChanges       = $document.scopeChanges
                OnDemand           = $document.onDemand
                Mismatches         = $document.mismatches
                FailedScopeChanges = $document.failedScopeChanges
                Users              = @(foreach ($u in $document.users) {
                        [PSCustomObject]@{
                            PSTypeName = 'CrossCloudSync.PlannedVsObserved'
                            SourceUpn  = $u.sourceUpn
                            SourceId   = $u.sourceId
                            Planned    = $u.planned
                            Observed   = $u.observed
                            Match      = $u.match
                            Detail     = $u.detail
                        }
                    })
                Notes              = $document.notes
                Journal            = $document.journal
                Workbook           = $document.workbook
                Csv                = $document.csv
            }
        }
        # ShouldProcess's target (the user) and action (what is done to them) for one operation.
        $describe = {
            param($op)
            $user = if ($op.targetUpn) { $op.targetUpn } elseif ($op.sourceUpn) { $op.sourceUpn } else { $op.opId }
            $from = if ($op.sourceUpn -and $op.sourceUpn -ne $user) { " from $($op.sourceUpn)" } else { '' }
            @("$user (profile '$ProfileName')", "$($op.kind)$from (operation $($op.opId), $($op.state))")
        }
    }

    process {
        # New-CcsSyncPlan emits one object per operation, all naming the same plan file: apply it once (end).
        if (-not $plans.Contains($Path)) {
            $bound = [ordered]@{}
            foreach ($key in $PSBoundParameters.Keys) {
                if ($key -ne 'OperationId') { $bound[$key] = $PSBoundParameters[$key] }
            }
            $plans[$Path] = @{ Bound = $bound; All = $false; Chosen = [System.Collections.Generic.List[string]]::new() }
        }
        $entry = $plans[$Path]
        if ($OperationId) { foreach ($id in $OperationId) { if (-not $entry.Chosen.Contains($id)) { $entry.Chosen.Add($id) } } }
        else { $entry.All = $true }
    }

    end {
        foreach ($planPath in $plans.Keys) {
            $bound = $plans[$planPath].Bound
            # Assigned, not returned from an if: a list output from a block would be unrolled into its items.
            $chosen = $null
            if (-not $plans[$planPath].All) { $chosen = $plans[$planPath].Chosen }

            if ($VerifyOnly) {
                # Entra-engine plans: reads the job's logs and compares; writes nothing, so nothing to confirm.
                $problem = $null
                $document = Invoke-CcsCli -Command 'apply' -Arguments @('--progress', 'events') -BoundParameters $bound -Problem ([ref]$problem)
                & $entraRun $document
                if ($problem) { $PSCmdlet.WriteError($problem) }
                continue
            }
            $listing = $null
            if ($WhatIfPreference -or $ConfirmPreference -ne 'None' -or $null -ne $chosen) {
                # Check against the target, write nothing: the operations to show, confirm or choose from.
                $listing = Invoke-CcsCli -Command 'apply' -Arguments @('--what-if', '--progress', 'events') -BoundParameters $bound
            }
            $entra = $null -ne $listing -and $listing.PSObject.Properties.Name -contains 'run'
            if ($WhatIfPreference) {
                if ($entra) {
                    # Entra-engine plan: each scope change, then the run through the job.
                    foreach ($change in $listing.scopeChanges) {
                        $null = $PSCmdlet.ShouldProcess("$($change.groupName) $($change.userPrincipalName) (profile '$ProfileName')", $change.action)
                    }
                    $null = $PSCmdlet.ShouldProcess("sync job of profile '$ProfileName'", $(if ($listing.run -eq 'on-demand') { 'Provision the planned users on demand' } else { 'Start the job' }))
                    continue
                }
                foreach ($op in $listing.operations) {
                    if ($null -ne $chosen -and -not $chosen.Contains([string]$op.opId)) { continue }
                    $target, $action = & $describe $op
                    $null = $PSCmdlet.ShouldProcess($target, $action)
                }
                continue
            }

            $only = $null
            if ($entra) {
                if ($null -ne $chosen) {
                    Write-Warning -Message "$planPath is an entra-engine plan: the sync job applies its scope as a whole, so it cannot apply chosen operations. Plan again with a narrower scope to leave users out."
                }
                $summary = "$(@($listing.scopeChanges).Count) scope change(s), then $(if ($listing.run -eq 'on-demand') { 'provision the planned users on demand' } else { 'start the job' })"
                if (-not (Confirm-CcsChange -Cmdlet $PSCmdlet -Target "sync job of profile '$ProfileName'" -Action "Apply entra-engine plan ${planPath}: $summary")) { continue }
            }
            elseif ($null -ne $listing) {
                # One question per operation ccsync would carry out (not those done, skipped as stale or held).
                $planned = @($listing.operations | Where-Object state -eq 'planned')
                $candidates = @($planned | Where-Object { $null -eq $chosen -or $chosen.Contains([string]$_.opId) })
                if ($null -ne $chosen) {
                    $absent = @($chosen | Where-Object { $_ -notin @($candidates | ForEach-Object { [string]$_.opId }) })
                    if ($absent.Count) {
                        Write-Warning -Message ("$($absent.Count) chosen operation(s) of $planPath would not be carried out (not in the plan, held above the deletion threshold, skipped as stale or already done): " + (($absent | Select-Object -First 5) -join ', '))
                    }
                    if (-not $candidates.Count) { continue }
                }
                $approved = [System.Collections.Generic.List[string]]::new()
                foreach ($op in $candidates) {
                    $target, $action = & $describe $op
                    if (Confirm-CcsChange -Cmdlet $PSCmdlet -Target $target -Action $action) { $approved.Add([string]$op.opId) }
                }
                if ($candidates.Count -and -not $approved.Count) { continue }
                if ($approved.Count -lt $planned.Count) {
                    $bound['OperationId'] = [string[]]$approved
                    $only = [System.Collections.Generic.HashSet[string]]::new([string[]]$approved)
                }
            }
            elseif ($null -ne $chosen) {
                $bound['OperationId'] = [string[]]$chosen
            }

            $problem = $null
            $document = Invoke-CcsCli -Command 'apply' -Arguments @('--yes', '--progress', 'events') -BoundParameters $bound -Problem ([ref]$problem)
            if ($document.PSObject.Properties.Name -contains 'run') {
                & $entraRun $document
                if ($problem) { $PSCmdlet.WriteError($problem) }
                continue
            }
            foreach ($op in $document.operations) {
                if ($null -ne $only -and -not $only.Contains([string]$op.opId)) { continue }   # declined: nothing emitted
                [PSCustomObject]@{
                    PSTypeName  = 'CrossCloudSync.AppliedOperation'
                    Kind        = $op.kind
                    State       = $op.state
                    SourceUpn   = $op.sourceUpn
                    TargetUpn   = $op.targetUpn
                    TargetId    = $op.targetId
                    HttpStatus  = $op.httpStatus
                    ErrorCode   = $op.errorCode
                    Message     = $op.message
                    RequestId   = $op.requestId
                    Action      = $op.action
                    OperationId = $op.opId
                }
            }
            # Exit 1 with a result: some operations failed or the run was stopped. Emitted above; now reported.
            if ($problem) { $PSCmdlet.WriteError($problem) }
        }
    }
}
