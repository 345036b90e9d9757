function Get-CcsLicenseEligibility {
    <#
    .SYNOPSIS
    Tells, per user, whether cross-tenant or cross-cloud sync is licensed, with the reason and the fix.

    .DESCRIPTION
    Wraps 'ccsync eligibility'. Same-cloud sync needs Microsoft Entra ID P1 (or P2); cross-cloud sync also needs
    Entra ID Governance or Entra Suite, assigned, enabled and without assignment errors. The decision is made on
    service plans, not SKU names. Emits one object per source user (Status, Reason, Fix, which SKU grants each
    entitlement and how). Users who are not eligible are a normal result, not an error. With -Report, ccsync
    also writes the Excel compliance workbook. The source may be a profile, a snapshot folder, saved Graph JSON
    or Export-Clixml files of Get-MgUser and Get-MgSubscribedSku; it binds from the pipeline by property name
    (Source or Snapshot, as Export-CcsTenant emits).

    .PARAMETER Source
    The source tenant: a profile name (exported live) or a snapshot folder / Graph JSON / Clixml file.

    .PARAMETER TargetCloud
    The cloud users are synchronized to: commercial, gcc, gcch, dod or china.

    .PARAMETER SourceCloud
    The source's cloud when Source is saved Graph JSON whose @odata links do not tell it (graph.microsoft.com
    serves both commercial and GCC).

    .PARAMETER ScopeFile
    Scoping file (group and filter lines) deciding who is in scope; default: every user.

    .PARAMETER Catalog
    Microsoft's newest 'Product names and service plan identifiers for licensing' CSV.

    .PARAMETER Report
    Path of the Excel workbook to write (Summary, Users, SKUs, Legend).

    .PARAMETER CsvPath
    Path of a CSV of the per-user rows (UTF-8 with BOM).

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Get-CcsLicenseEligibility -Source ./snapshots/contoso -TargetCloud gcch | Where-Object { -not $_.Eligible } | Format-Table UserPrincipalName, Status, Fix

    Lists the users who cannot be synchronized to GCC High and what to assign.

    .EXAMPLE
    Export-CcsTenant -Profile contoso -Group CCS-Sync-Scope -OutDir ./snap | Get-CcsLicenseEligibility -TargetCloud gcch -Report elig.xlsx

    .LINK
    Export-CcsTenant

    .LINK
    New-CcsSyncPlan

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Snapshot')]
        [ValidateNotNullOrEmpty()]
        [string] $Source,

        [Parameter(Mandatory)]
        [ValidateSet('commercial', 'gcc', 'gcch', 'dod', 'china')]
        [string] $TargetCloud,

        [ValidateSet('commercial', 'gcc', 'gcch', 'dod', 'china')]
        [string] $SourceCloud,

        [string] $ScopeFile,

        [string] $Catalog,

        [string] $Report,

        [string] $CsvPath,

        [string] $ConfigPath
    )

    process {
        # Exit 1 with a result: some users in scope are not eligible. That is the answer, not a failure.
        $document = Invoke-CcsCli -Command 'eligibility' -BoundParameters $PSBoundParameters -ProblemsAsResult
        foreach ($user in $document.users) {
            [PSCustomObject]@{
                PSTypeName              = 'CrossCloudSync.Eligibility'
                UserPrincipalName       = $user.userPrincipalName
                DisplayName             = $user.displayName
                Eligible                = $user.eligible
                Status                  = $user.status
                Reason                  = $user.reason
                Fix                     = $user.fix
                InScope                 = $user.inScope
                P1SkuPartNumber         = $user.p1SkuPartNumber
                P1Source                = $user.p1Source
                GovernanceSkuPartNumber = $user.governanceSkuPartNumber
                GovernanceSource        = $user.governanceSource
                UserId                  = $user.userId
                PortalUrl               = $user.portalUrl
            }
        }
    }
}
