function New-CcsSyncPlan {
    <#
    .SYNOPSIS
    Plans a sync between two tenants: create, update, disable, delete, conflict or blocked, per user.

    .DESCRIPTION
    Wraps 'ccsync plan'. Reads the source and target tenants (profiles exported live, or snapshot folders),
    applies the scoping file and attribute mapping, matches users (ccsync's durable link, then mail, then UPN),
    checks licences for cross-cloud pairs and holds deletes and disables above the deletion threshold. Nothing
    is written to any tenant: the plan file (JSON with an integrity hash) is reviewed, then applied. Emits one
    object per planned operation.

    .PARAMETER Source
    The source tenant: a profile name or a snapshot folder / Graph JSON.

    .PARAMETER Target
    The target tenant: a profile name or a snapshot folder / Graph JSON.

    .PARAMETER OutFile
    Path of the plan file to write.

    .PARAMETER MappingFile
    Attribute mapping file; default: Entra's cross-tenant sync defaults.

    .PARAMETER ScopeFile
    Scoping file ('group NAME' lines and 'filter' blocks); default: every internal member.

    .PARAMETER OnDeprovision
    What happens to a target user whose source user left scope or was deleted: Delete (soft, Entra's
    behaviour) or Disable.

    .PARAMETER DeletionThreshold
    Deletes and disables above this number are held (default 500, as in Entra).

    .PARAMETER AllowDeletes
    Explicitly allow this many deletes and disables above the threshold.

    .PARAMETER CreateAs
    Invite (external members through the invitation API) or Member (POST /users, in-tenant migrations).

    .PARAMETER TargetLicense
    Target SKU ids to assign to every created user.

    .PARAMETER TargetGroup
    Target group ids to add every created user to.

    .PARAMETER Report
    Path of the Excel plan workbook to write.

    .PARAMETER ConfirmEmptyScope
    Plan even when the scope matches no source user although the target has users linked to this source (all of
    them would be deprovisioned). Without it such a plan is refused.

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    New-CcsSyncPlan -Source ./snapshots/contoso -Target ./snapshots/fabrikam -ScopeFile ./samples/scope.txt -OutFile plan.json -Report plan.xlsx | Group-Object Kind

    Plans the sync and counts the operations by kind.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $Source,

        [Parameter(Mandatory, Position = 1)]
        [ValidateNotNullOrEmpty()]
        [string] $Target,

        [Parameter(Mandatory)]
        [string] $OutFile,

        [string] $MappingFile,

        [string] $ScopeFile,

        [ValidateSet('Delete', 'Disable')]
        [string] $OnDeprovision = 'Delete',

        [ValidateRange(0, [int]::MaxValue)]
        [int] $DeletionThreshold = 500,

        [ValidateRange(0, [int]::MaxValue)]
        [int] $AllowDeletes = 0,

        [ValidateSet('Invite', 'Member')]
        [string] $CreateAs = 'Invite',

        [string[]] $TargetLicense = @(),

        [string[]] $TargetGroup = @(),

        [string] $Report,

        [switch] $ConfirmEmptyScope,

        [string] $ConfigPath
    )

    $arguments = @('--source', $Source, '--target', $Target, '--out', $OutFile,
        '--on-deprovision', $OnDeprovision.ToLowerInvariant(), '--deletion-threshold', $DeletionThreshold,
        '--allow-deletes', $AllowDeletes, '--create-as', $CreateAs.ToLowerInvariant())
    if ($MappingFile) { $arguments += @('--mapping', $MappingFile) }
    if ($ScopeFile) { $arguments += @('--scope', $ScopeFile) }
    foreach ($sku in $TargetLicense) { $arguments += @('--target-license', $sku) }
    foreach ($g in $TargetGroup) { $arguments += @('--target-group', $g) }
    if ($Report) { $arguments += @('--report', $Report) }
    if ($ConfirmEmptyScope) { $arguments += '--confirm-empty-scope' }
    if ($ConfigPath) { $arguments += @('--config', (Resolve-Path -LiteralPath $ConfigPath).ProviderPath) }
    $document = Invoke-CcsCli -Command 'plan' -Arguments $arguments
    foreach ($op in $document.operations) {
        [PSCustomObject]@{
            PSTypeName = 'CrossCloudSync.PlannedOperation'
            Kind       = $op.kind
            Held       = $op.held
            SourceUpn  = $op.sourceUpn
            TargetUpn  = $op.targetUpn
            MatchedBy  = $op.matchedBy
            Reason     = $op.reason
            Changes    = $op.changes
            OperationId = $op.opId
            PlanFile   = $document.planFile
        }
    }
}
