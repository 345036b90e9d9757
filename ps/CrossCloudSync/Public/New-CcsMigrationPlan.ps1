function New-CcsMigrationPlan {
    <#
    .SYNOPSIS
    Turns a validated migration CSV into a plan that Invoke-CcsSyncPlan executes exactly once.

    .DESCRIPTION
    Wraps 'ccsync migrate plan'. Validates the CSV against the target tenant and writes a plan of one create
    per valid row: POST /users for members, invitations for guests and external members, with licences and
    group memberships. Passwords never go into the plan: apply re-reads them from the CSV (and refuses a
    changed file), or generates them into PLAN.passwords.csv (readable only by you) to hand on. Without
    -SkipInvalid nothing is planned while a row is invalid. Emits one object per planned user.

    .PARAMETER Path
    The CSV file (portal bulk-create or bulk-invite template, or Graph property headers).

    .PARAMETER Target
    The target tenant: a profile name (exported live) or a snapshot folder / Graph JSON.

    .PARAMETER OutFile
    Path of the plan file to write.

    .PARAMETER Report
    Path of the validation workbook (.xlsx) to write; the same rows are written as a CSV next to it.

    .PARAMETER SkipInvalid
    Plan the valid rows although others are invalid (the invalid ones are still reported).

    .PARAMETER LinkAttribute
    The extension attribute where ccsync records which row created a user (default extensionAttribute15).

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    New-CcsMigrationPlan -Path ./users.csv -Target fabrikam -OutFile migration.json -Report check.xlsx | Invoke-CcsSyncPlan -ProfileName fabrikam

    Plans the migration, then applies it (Invoke-CcsSyncPlan asks for confirmation).

    .LINK
    Test-CcsMigrationCsv

    .LINK
    Invoke-CcsSyncPlan

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('FullName')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(Mandatory, Position = 1)]
        [ValidateNotNullOrEmpty()]
        [string] $Target,

        [Parameter(Mandatory)]
        [string] $OutFile,

        [string] $Report,

        [switch] $SkipInvalid,

        [string] $LinkAttribute,

        [string] $ConfigPath
    )

    $problem = $null
    $document = Invoke-CcsCli -Command 'migrate plan' -BoundParameters $PSBoundParameters -Problem ([ref]$problem)
    if ($problem) {
        # Exit 1 with a plan: invalid rows were skipped (-SkipInvalid). Without a plan it is an error.
        if (-not $document.planFile) { $PSCmdlet.ThrowTerminatingError($problem) }
        Write-Warning -Message "$($document.invalid) invalid row(s) were not planned; see the report."
    }
    foreach ($row in $document.rowResults | Where-Object { $_.valid }) {
        $key = if ($row.mode -eq 'member') { $row.userPrincipalName } else { $row.invitedUserEmailAddress }
        [PSCustomObject]@{
            PSTypeName  = 'CrossCloudSync.MigrationPlanEntry'
            Row         = $row.row
            Key         = $key
            Mode        = $row.mode
            DisplayName = $row.displayName
            Path        = $document.planFile
            PlanFile    = $document.planFile
        }
    }
}
