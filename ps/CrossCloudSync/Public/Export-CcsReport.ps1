function Export-CcsReport {
    <#
    .SYNOPSIS
    Writes the provisioning or audit log workbook from log files in any export format, or from the archive.

    .DESCRIPTION
    Wraps 'ccsync report provisioning' and 'ccsync report audit'. Reads Graph JSON (a collection, a bare array,
    JSON lines or several pages), the portal's JSON download or its three-file CSV download, Azure Monitor
    diagnostic-settings records and Log Analytics exports, or the archive Get-CcsProvisioningLog wrote. The
    provisioning workbook has a Summary with charts, Events, Failures (each error code with a plain explanation
    and what to do), Steps and Modified properties; the audit workbook activity by category, initiator, result
    and target, with modified properties. Records that cannot be read are counted with the reason, never
    dropped silently. Emits one summary object.

    .PARAMETER Kind
    Provisioning or Audit.

    .PARAMETER Path
    Log files to read (not with -Archive).

    .PARAMETER Archive
    The SQLite archive to read instead of files.

    .PARAMETER OutFile
    The workbook to write (.xlsx).

    .PARAMETER Since
    Only events from this time (a date, a UTC time, or 7d / 12h / 30m before now).

    .PARAMETER Until
    Only events before this time.

    .PARAMETER CsvPath
    Also write the events as CSV (UTF-8 with BOM).

    .EXAMPLE
    Export-CcsReport -Kind Provisioning -Path ./ProvisioningLogs*.csv -OutFile ./provisioning.xlsx

    Joins the portal's three CSV files by change ID and writes the provisioning workbook.

    .EXAMPLE
    Export-CcsReport -Kind Audit -Archive ./logs/contoso.sqlite -Since 7d -OutFile ./audit.xlsx

    Writes the last week's audit events from the archive.

    .LINK
    Get-CcsProvisioningLog

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateSet('Provisioning', 'Audit')]
        [string] $Kind,

        [Parameter(Position = 1, ValueFromPipeline)]
        [string[]] $Path = @(),

        [string] $Archive,

        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $OutFile,

        [string] $Since,

        [string] $Until,

        [string] $CsvPath
    )

    begin { $files = @() }

    process {
        # Wildcards (./ProvisioningLogs*.csv) are expanded here: ccsync takes file names.
        foreach ($p in $Path) { foreach ($resolved in (Resolve-Path -Path $p).ProviderPath) { $files += $resolved } }
    }

    end {
        $bound = [ordered]@{}
        foreach ($key in $PSBoundParameters.Keys) {
            if ($key -ne 'Path') { $bound[$key] = $PSBoundParameters[$key] }
        }
        if ($files.Count) { $bound['Path'] = [string[]]$files }
        # -Kind chooses the command (PowerShellOnly in the parameter map).
        if ($Kind -eq 'Provisioning') {
            $document = Invoke-CcsCli -Command 'report provisioning' -BoundParameters $bound
        }
        else {
            $document = Invoke-CcsCli -Command 'report audit' -BoundParameters $bound
        }
        [PSCustomObject]@{
            PSTypeName     = 'CrossCloudSync.LogReport'
            Kind           = $document.kind
            Report         = $document.report
            Csv            = $document.csv
            Source         = $document.summary.sourceName
            From           = $document.summary.from
            To             = $document.summary.to
            Events         = $document.summary.events
            Failures       = $document.summary.failures
            SkippedRecords = $document.summary.skippedRecords
            Duplicates     = $document.summary.duplicates
        }
    }
}
