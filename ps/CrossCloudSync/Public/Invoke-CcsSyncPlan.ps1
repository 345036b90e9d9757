function Invoke-CcsSyncPlan {
    <#
    .SYNOPSIS
    Applies a reviewed sync plan to the target tenant exactly once: batched, paced, journaled and resumable.

    .DESCRIPTION
    Wraps 'ccsync apply'. ccsync verifies the plan's integrity hash and that the profile reaches the plan's
    target tenant and cloud, re-reads the target users the plan touches and skips (never overwrites) any that
    changed since the plan was made, then writes through Graph in $batch requests paced below the write quota.
    Every operation is journaled in SQLite next to the plan, so an interrupted run continues with -Resume
    without creating anyone twice. With -WhatIf nothing is written. Deletes and disables are destructive:
    PowerShell asks for confirmation (ConfirmImpact High) unless -Confirm:$false is given. Emits one object per
    operation with its final state; failures carry Graph's error code, request-id and what to do.

    .PARAMETER Path
    The plan file made by New-CcsSyncPlan or 'ccsync plan' (accepts PlanFile from the pipeline).

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
    How many $batch requests may be in flight at once.

    .PARAMETER TrustUnsignedPlan
    Apply a plan that is not signed with your own key (unsigned, made by a colleague, or changed after it was
    signed) after you reviewed it. Schema validation and the write-time guard still apply.

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam -WhatIf

    Shows what the plan would do to Fabrikam, writing nothing.

    .EXAMPLE
    Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam | Where-Object State -eq 'failed' | Format-Table SourceUpn, ErrorCode, Action

    Applies the plan (asking before deletes) and lists what failed and what to do about it.
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('PlanFile')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

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
        [int] $Concurrency = 4,

        [switch] $TrustUnsignedPlan,

        [string] $ConfigPath
    )

    begin { $done = @{} }

    process {
        # New-CcsSyncPlan emits one object per operation, all naming the same plan file: apply it once.
        if ($done.ContainsKey($Path)) { return }
        $done[$Path] = $true
        $arguments = @($Path, '--profile', $ProfileName, '--progress', 'none', '--concurrency', $Concurrency)
        if ($Resume) { $arguments += '--resume' }
        if ($RetryFailed) { $arguments += '--retry-failed' }
        if ($TrustUnsignedPlan) { $arguments += '--trust-unsigned-plan' }
        if ($JournalPath) { $arguments += @('--journal', $JournalPath) }
        if ($Report) { $arguments += @('--results', $Report) }
        if ($CsvPath) { $arguments += @('--csv', $CsvPath) }
        if ($ConfigPath) { $arguments += @('--config', (Resolve-Path -LiteralPath $ConfigPath).ProviderPath) }
        if ($PSCmdlet.ShouldProcess("tenant of profile '$ProfileName'", "Apply sync plan $Path (creates, updates, disables, deletes)")) {
            $arguments += '--yes'
        }
        else {
            $arguments += '--what-if'
        }
        $failure = $null
        try {
            $document = Invoke-CcsCli -Command 'apply' -Arguments $arguments
        }
        catch {
            # Exit 1 with a result: some operations failed or the run was stopped. Emit them, then report.
            $result = $_.TargetObject
            if ($null -eq $result -or $result -is [string] -or $result.PSObject.Properties.Name -notcontains 'operations') {
                $PSCmdlet.ThrowTerminatingError($_)
            }
            $document = $result
            $failure = $_
        }
        foreach ($op in $document.operations) {
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
        if ($failure) { $PSCmdlet.WriteError($failure) }
    }
}
