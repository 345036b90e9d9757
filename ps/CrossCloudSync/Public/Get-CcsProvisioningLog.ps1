function Get-CcsProvisioningLog {
    <#
    .SYNOPSIS
    Fetches a tenant's provisioning and audit logs into a local archive that keeps them past Entra's retention.

    .DESCRIPTION
    Wraps 'ccsync logs fetch'. Reads auditLogs/provisioning and auditLogs/directoryAudits through Microsoft Graph
    in time windows that shrink when a window is dense, paced under Graph's limit of 5 requests per 10 seconds
    (Retry-After honoured if a 429 still comes), into a SQLite archive that de-duplicates by id. The next run
    fetches only what is new; an interrupted run resumes. The app needs AuditLog.Read.All and
    Directory.Read.All. Emits one object per log kind with what was fetched and what the archive now holds.
    Turn the archive into workbooks with Export-CcsReport -Archive.

    .PARAMETER ProfileName
    Name of the profile of the tenant whose logs to fetch (alias: Profile).

    .PARAMETER Since
    Start of the range: a date (2026-01-31), a UTC time (2026-01-31T12:00:00Z), or 7d / 12h / 30m before now.
    Default: where the archive stopped, else 30 days ago.

    .PARAMETER Until
    End of the range (exclusive), in the same forms; default now.

    .PARAMETER JobId
    Only provisioning events of this synchronization job.

    .PARAMETER Archive
    Path of the SQLite archive (one per tenant). Default: ccsync-logs-<profile>.sqlite in the current folder.

    .PARAMETER Kind
    Which logs: Provisioning, Audit, or both (default).

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Get-CcsProvisioningLog -Profile contoso -Since 7d -Archive ./logs/contoso.sqlite

    Fetches the last seven days of provisioning and audit logs and shows how many records were new.

    .LINK
    Export-CcsReport

    .LINK
    Get-CcsCrossTenantSyncStatus

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [Alias('Profile')]
        [ValidateNotNullOrEmpty()]
        [string] $ProfileName,

        [string] $Since,

        [string] $Until,

        [string] $JobId,

        [string] $Archive,

        [ValidateSet('Provisioning', 'Audit')]
        [string[]] $Kind = @(),

        [string] $ConfigPath
    )

    $document = Invoke-CcsCli -Command 'logs fetch' -BoundParameters $PSBoundParameters
    foreach ($entry in $document.kinds) {
        [PSCustomObject]@{
            PSTypeName = 'CrossCloudSync.LogFetch'
            Kind       = $entry.kind
            Fetched    = $entry.fetched
            New        = $entry.new
            InArchive  = $entry.stored
            Windows    = $entry.windows
            Resumed    = $entry.resumed
            Since      = $entry.since
            Until      = $entry.until
            Requests   = $entry.requests
            Throttled  = $document.throttled
            TenantId   = $document.tenantId
            Archive    = $document.archive
        }
    }
}
