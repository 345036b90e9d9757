function Get-CcsCrossTenantSyncStatus {
    <#
    .SYNOPSIS
    Shows the state of Entra's cross-tenant sync jobs in a source tenant, with a diagnosis and the fix.

    .DESCRIPTION
    Wraps 'ccsync xts status'. Emits one object per sync job: schedule state, status code, last cycle and its
    counts, last success, quarantine and its reason, synchronized entries by type, and diagnoses of the
    documented failures (ExternalTenantNotFound, AzureActiveDirectoryTokenExpired,
    AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure, TooManyDeletes, escrow thresholds) with their fix.
    A job in quarantine or failing is still emitted, then reported as an error (ccsync exit code 1).
    Needs application permissions in the source: Application.Read.All, Synchronization.Read.All.

    .PARAMETER Source
    Profile of the source tenant.

    .PARAMETER JobId
    Only this sync job.

    .PARAMETER Name
    Only the configuration with this name.

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Get-CcsCrossTenantSyncStatus -Source contoso-ccsync | Format-List Configuration, State, Code, Quarantine, Diagnoses

    Shows each job's state and what to do about a failure.

    .LINK
    Enable-CcsCrossTenantSync

    .LINK
    Restart-CcsCrossTenantSync

    .LINK
    Get-CcsProvisioningLog

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $Source,

        [string] $JobId,

        [string] $Name,

        [string] $ConfigPath
    )

    # Exit 1 with a result: a job is in quarantine or failing. The jobs are emitted, then the error written.
    $problem = $null
    $document = Invoke-CcsCli -Command 'xts status' -BoundParameters $PSBoundParameters -Problem ([ref]$problem)
    foreach ($job in $document.jobs) {
        [PSCustomObject]@{
            PSTypeName         = 'CrossCloudSync.SyncJobStatus'
            Configuration      = $job.configuration
            ServicePrincipalId = $job.servicePrincipalId
            JobId              = $job.jobId
            State              = $job.state
            Interval           = $job.interval
            Code               = $job.code
            LastExecution      = $job.lastExecution
            LastSuccess        = $job.lastSuccessfulExecution
            Quarantine         = $job.quarantine
            Synchronized       = $job.synchronizedEntryCountByType
            Failing            = $job.failing
            Diagnoses          = $job.diagnoses
        }
    }
    if ($problem) { $PSCmdlet.WriteError($problem) }
}
