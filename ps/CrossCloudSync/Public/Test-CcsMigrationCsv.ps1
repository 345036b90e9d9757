function Test-CcsMigrationCsv {
    <#
    .SYNOPSIS
    Validates a migration CSV row by row before anything is written to a tenant.

    .DESCRIPTION
    Wraps 'ccsync migrate validate'. Reads the Entra portal's bulk-create or bulk-invite template (as
    downloaded, 'version:v1.0' line and all) or a CSV with Graph property names as headers, in UTF-8, UTF-16
    or Windows-1252, separated by commas, semicolons or tabs. Checks required fields, UPN syntax, duplicates,
    password rules, Yes/No values, usageLocation codes, Graph's length limits, stray spaces and formula-like
    values; with -Target also the tenant checks (verified domain, existing users, licences and free seats,
    groups, managers). Emits one object per row with its problems; passwords are never shown. Invalid rows
    are the answer, not an error.

    .PARAMETER Path
    The CSV file. Accepts pipeline input by property name (FullName), so Get-ChildItem *.csv can be piped in.

    .PARAMETER Target
    The target tenant: a profile name (exported live) or a snapshot folder / Graph JSON. Without it only the
    file is checked.

    .PARAMETER Report
    Path of the validation workbook (.xlsx) to write; the same rows are written as a CSV next to it.

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Test-CcsMigrationCsv -Path ./users.csv -Target fabrikam | Where-Object { -not $_.Valid } | Format-List Row, Key, Errors

    Lists the invalid rows with their problems and fixes.

    .EXAMPLE
    Get-ChildItem ./onboarding/*.csv | Test-CcsMigrationCsv | Group-Object Valid

    Validates every CSV in a folder and counts valid and invalid rows.

    .LINK
    New-CcsMigrationPlan

    .LINK
    Invoke-CcsSyncPlan

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('FullName')]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [string] $Target,

        [string] $Report,

        [string] $ConfigPath
    )

    process {
        # Exit 1 with a result: some rows are invalid. That is the answer, not a failure.
        $document = Invoke-CcsCli -Command 'migrate validate' -BoundParameters $PSBoundParameters -ProblemsAsResult
        foreach ($row in $document.rowResults) {
            $key = if ($row.mode -eq 'member') { $row.userPrincipalName } else { $row.invitedUserEmailAddress }
            [PSCustomObject]@{
                PSTypeName  = 'CrossCloudSync.MigrationRow'
                File        = $document.file.path
                Row         = $row.row
                Key         = $key
                Mode        = $row.mode
                DisplayName = $row.displayName
                Valid       = $row.valid
                Errors      = @($row.errors | ForEach-Object { "$($_.column): $($_.problem). $($_.fix)" })
                Problems    = $row.errors
            }
        }
    }
}
