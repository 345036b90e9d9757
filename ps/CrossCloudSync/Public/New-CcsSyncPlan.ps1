function New-CcsSyncPlan {
    <#
    .SYNOPSIS
    Plans a sync between two tenants: create, update, disable, delete, conflict or blocked, per user.

    .DESCRIPTION
    Wraps 'ccsync plan'. Reads the source and target tenants (profiles exported live, snapshot folders, saved
    Graph JSON or Export-Clixml files), applies the scoping file and attribute mapping, matches users (ccsync's
    durable link, then mail, then UPN), checks licences for cross-cloud pairs and holds deletes and disables
    above the deletion threshold. Nothing is written to any tenant: the plan file (JSON with an integrity hash)
    is reviewed, then applied with Invoke-CcsSyncPlan (pipe the operations into it). Emits one object per
    planned operation. Options left out take ccsync's defaults (see 'ccsync plan --help').

    With -Job (or -SchemaFile, offline) the plan predicts what Entra's own cross-tenant sync job will do instead
    (the entra engine): the job's schema, assigned groups and settings are read, the scoping file becomes
    scope changes (group assignments and memberships), and each user's outcome is predicted. Applying such a
    plan with Invoke-CcsSyncPlan starts the job (or provisions on demand) and compares planned with observed.

    .PARAMETER Source
    The source tenant: a profile name or a snapshot folder / Graph JSON / Clixml file. With -Job it defaults
    to the job's profile.

    .PARAMETER Target
    The target tenant: a profile name or a snapshot folder / Graph JSON / Clixml file.

    .PARAMETER OutFile
    Path of the plan file to write.

    .PARAMETER MappingFile
    Attribute mapping file; default: Entra's cross-tenant sync defaults (Get-CcsDefaultMapping).

    .PARAMETER ScopeFile
    Scoping file ('group NAME' lines and 'filter' blocks); default: every internal member.

    .PARAMETER OnDeprovision
    What happens to a target user whose source user left scope or was deleted: Delete (soft, Entra's
    behaviour; the default) or Disable.

    .PARAMETER DeletionThreshold
    Deletes and disables above this number are held (default 500, as in Entra).

    .PARAMETER AllowDeletes
    Explicitly allow this many deletes and disables above the threshold.

    .PARAMETER LinkAttribute
    The target extension attribute that holds ccsync's durable link to the source user (default
    extensionAttribute15).

    .PARAMETER CreateAs
    Invite (external members through the invitation API; the default) or Member (POST /users, in-tenant
    migrations).

    .PARAMETER TargetLicense
    Target SKU ids to assign to every created user.

    .PARAMETER TargetGroup
    Target group ids to add every created user to.

    .PARAMETER ExpectSource
    Refuse to plan unless the source is this tenant (ID or domain).

    .PARAMETER ExpectTarget
    Refuse to plan unless the target is this tenant (ID or domain).

    .PARAMETER AllowOlderTarget
    Plan even when the target snapshot is older than the source snapshot.

    .PARAMETER Catalog
    Microsoft's newest 'Product names and service plan identifiers for licensing' CSV.

    .PARAMETER Adopt
    Take over existing target users matched by mail or UPN (ccsync writes its link and may later disable or
    delete them). Without it such matches are conflicts. Users of Entra's own sync are never adopted.

    .PARAMETER SourceCloud
    The source's cloud when Source is saved Graph JSON whose @odata links do not tell it.

    .PARAMETER TargetCloud
    The target's cloud when Target is saved Graph JSON whose @odata links do not tell it.

    .PARAMETER Report
    Path of the Excel plan workbook to write.

    .PARAMETER ConfirmEmptyScope
    Plan even when the scope matches no source user although the target has users linked to this source (all of
    them would be deprovisioned). Without it such a plan is refused.

    .PARAMETER Engine
    Direct (the default: ccsync writes target users itself) or Entra (predict Entra's own sync job; implied by
    -Job or -SchemaFile).

    .PARAMETER Job
    Entra engine: the source-tenant profile through which the live sync job (schema, assigned groups,
    settings, provisioning-log links) is read.

    .PARAMETER JobId
    Entra engine: the job's id, when the configuration has several.

    .PARAMETER Configuration
    Entra engine: the configuration's name, when the source tenant has several.

    .PARAMETER SchemaFile
    Entra engine, offline: the job's schema as saved from Graph or the portal's schema editor.

    .PARAMETER AssignedGroup
    Entra engine, offline: groups assigned to the configuration (names or ids).

    .PARAMETER SyncAll
    Entra engine, offline: the job syncs all users (SyncAll) rather than assigned users and groups.

    .PARAMETER ProvisioningLog
    Entra engine, offline: the job's provisioning logs (Graph JSON), for the users it has already linked.

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    New-CcsSyncPlan -Source ./snapshots/contoso -Target ./snapshots/fabrikam -ScopeFile ./samples/scope.txt -OutFile plan.json -Report plan.xlsx | Group-Object Kind

    Plans the sync and counts the operations by kind.

    .EXAMPLE
    New-CcsSyncPlan -Source ./snapshots/contoso -Target ./snapshots/fabrikam -OutFile plan.json | Invoke-CcsSyncPlan -Profile fabrikam -WhatIf

    Plans, then shows what applying the plan would do to each user.

    .EXAMPLE
    New-CcsSyncPlan -Job contoso-ccsync -Target fabrikamfederal -ScopeFile ./scope.txt -OutFile entra-plan.json -Report entra-plan.xlsx | Group-Object Kind

    Predicts what Entra's own sync job will do to each user once the scope file's groups are assigned.

    .LINK
    Invoke-CcsSyncPlan

    .LINK
    Get-CcsDefaultMapping

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding(DefaultParameterSetName = 'Direct')]
    [OutputType([pscustomobject])]
    param(
        # The entra engine reads the source through the job's profile unless -Source is given.
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Direct')]
        [Parameter(Position = 0, ParameterSetName = 'EntraJob')]
        [Parameter(Position = 0, ParameterSetName = 'EntraSchema')]
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
        [string] $OnDeprovision,

        [ValidateRange(0, [int]::MaxValue)]
        [int] $DeletionThreshold,

        [ValidateRange(0, [int]::MaxValue)]
        [int] $AllowDeletes,

        [string] $LinkAttribute,

        [ValidateSet('Invite', 'Member')]
        [string] $CreateAs,

        [string[]] $TargetLicense,

        [string[]] $TargetGroup,

        [string] $ExpectSource,

        [string] $ExpectTarget,

        [switch] $AllowOlderTarget,

        [string] $Catalog,

        [switch] $Adopt,

        [ValidateSet('commercial', 'gcc', 'gcch', 'dod', 'china')]
        [string] $SourceCloud,

        [ValidateSet('commercial', 'gcc', 'gcch', 'dod', 'china')]
        [string] $TargetCloud,

        [string] $Report,

        [switch] $ConfirmEmptyScope,

        [ValidateSet('Direct', 'Entra')]
        [string] $Engine,

        [Parameter(Mandatory, ParameterSetName = 'EntraJob')]
        [ValidateNotNullOrEmpty()]
        [string] $Job,

        [Parameter(ParameterSetName = 'EntraJob')]
        [Parameter(ParameterSetName = 'EntraSchema')]
        [string] $JobId,

        [Parameter(ParameterSetName = 'EntraJob')]
        [string] $Configuration,

        [Parameter(Mandatory, ParameterSetName = 'EntraSchema')]
        [ValidateNotNullOrEmpty()]
        [string] $SchemaFile,

        [Parameter(ParameterSetName = 'EntraSchema')]
        [string[]] $AssignedGroup,

        [Parameter(ParameterSetName = 'EntraSchema')]
        [switch] $SyncAll,

        [Parameter(ParameterSetName = 'EntraSchema')]
        [string] $ProvisioningLog,

        [string] $ConfigPath
    )

    $document = Invoke-CcsCli -Command 'plan' -BoundParameters $PSBoundParameters
    foreach ($op in $document.operations) {
        [PSCustomObject]@{
            PSTypeName  = 'CrossCloudSync.PlannedOperation'
            Kind        = $op.kind
            Held        = $op.held
            SourceUpn   = $op.sourceUpn
            TargetUpn   = $op.targetUpn
            MatchedBy   = $op.matchedBy
            Reason      = $op.reason
            Changes     = $op.changes
            OperationId = $op.opId
            PlanFile    = $document.planFile
        }
    }
}
