function Export-CcsTenant {
    <#
    .SYNOPSIS
    Exports a tenant's users, licences, SKUs, scoping-group members and domains, optionally as a snapshot folder.

    .DESCRIPTION
    Wraps 'ccsync export'. Users come with their licence fields in pages of 999 (never one request per user);
    subscribed SKUs, the direct members of the given scoping groups, verified domains and the organization are
    read too. With -OutDir, ccsync writes a snapshot: Graph's own JSON, Parquet and a manifest with hashes,
    which every other cmdlet accepts in place of a live tenant. Reads the tenant only. Emits one summary
    object, whose Snapshot property pipes into Get-CcsLicenseEligibility.

    .PARAMETER ProfileName
    Name of the profile of the tenant to export (alias: Profile).

    .PARAMETER Group
    Scoping groups (display name or object id) whose direct members to export.

    .PARAMETER OutDir
    Folder to write the snapshot to.

    .PARAMETER Overwrite
    Replace an existing snapshot folder at OutDir.

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Export-CcsTenant -Profile contoso -Group 'CCS-Sync-Scope' -OutDir ./snapshots/contoso

    Writes a snapshot of Contoso and shows the row counts and the Graph calls made.

    .EXAMPLE
    Export-CcsTenant -Profile contoso -OutDir ./snapshots/contoso | Get-CcsLicenseEligibility -TargetCloud gcch

    Exports, then checks licence eligibility for GCC High on the snapshot.

    .LINK
    Get-CcsLicenseEligibility

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipelineByPropertyName)]
        [Alias('Profile')]
        [ValidateNotNullOrEmpty()]
        [string] $ProfileName,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string[]] $Group,

        [string] $OutDir,

        [switch] $Overwrite,

        [string] $ConfigPath
    )

    process {
        $document = Invoke-CcsCli -Command 'export' -BoundParameters $PSBoundParameters
        [PSCustomObject]@{
            PSTypeName   = 'CrossCloudSync.Export'
            TenantId     = $document.tenantId
            DisplayName  = $document.displayName
            Cloud        = $document.cloud
            ExportedAt   = $document.exportedAt
            Users        = $document.counts.users
            Licenses     = $document.counts.license_assignments
            Skus         = $document.counts.skus
            GroupMembers = $document.counts.group_members
            GraphCalls   = $document.graphCalls.requests
            Snapshot     = $document.snapshot
        }
    }
}
