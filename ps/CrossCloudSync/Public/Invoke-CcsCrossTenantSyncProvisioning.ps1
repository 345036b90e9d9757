function Invoke-CcsCrossTenantSyncProvisioning {
    <#
    .SYNOPSIS
    Provisions source users into the target tenant now, on demand, through Entra's sync job.

    .DESCRIPTION
    Wraps 'ccsync xts provision'. Each user (UPN or object id in the source) is provisioned with the job's
    user rule, paced at Graph's limit of 5 requests per 10 seconds. Emits one object per user and step with
    its status. Users that failed are emitted, then reported as an error (ccsync exit code 1). Writes to the
    target tenant, so PowerShell asks for confirmation per user (ConfirmImpact High) unless -Confirm:$false is
    given; the users confirmed are provisioned in one paced run. With -WhatIf each user is named in a 'What if'
    line and nothing is sent.
    Needs application permissions in the source: Application.Read.All, Synchronization.ReadWrite.All,
    User.Read.All.

    .PARAMETER Source
    Profile of the source tenant.

    .PARAMETER User
    UPNs or object ids of source users (accepts UserPrincipalName from the pipeline).

    .PARAMETER JobId
    The sync job's id (when there are several).

    .PARAMETER Name
    The configuration's name (when there are several).

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    Invoke-CcsCrossTenantSyncProvisioning -Source contoso-ccsync -User adele.vance@contoso.com -Confirm:$false

    Provisions one user now and shows each step's result.

    .EXAMPLE
    Import-Csv ./pilot.csv | Invoke-CcsCrossTenantSyncProvisioning -Source contoso-ccsync | Where-Object Status -ne 'success'

    Asks for each user of the CSV (its UserPrincipalName column), provisions the confirmed ones and lists the
    steps that did not succeed.

    .LINK
    Get-CcsCrossTenantSyncStatus

    .LINK
    Get-CcsProvisioningLog

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [ValidateNotNullOrEmpty()]
        [string] $Source,

        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [Alias('UserPrincipalName')]
        [string[]] $User,

        [string] $JobId,

        [string] $Name,

        [string] $ConfigPath
    )

    begin {
        $users = @()
        $bound = [ordered]@{}
    }

    process {
        # Asked per user; only the users confirmed are provisioned, in one paced run.
        foreach ($u in $User) {
            if (Confirm-CcsChange -Cmdlet $PSCmdlet -Target "$u (sync job in the tenant of profile '$Source')" -Action 'Provision on demand into the target tenant') {
                $users += $u
            }
        }
        foreach ($key in $PSBoundParameters.Keys) {
            if ($key -ne 'User') { $bound[$key] = $PSBoundParameters[$key] }
        }
    }

    end {
        if ($users.Count -eq 0) { return }
        $bound['User'] = [string[]]$users
        # Exit 1 with a result: some users failed. Every user is emitted, then the error written.
        $problem = $null
        $document = Invoke-CcsCli -Command 'xts provision' -BoundParameters $bound -Problem ([ref]$problem)
        foreach ($r in $document.results) {
            # A user without steps (not found, refused) still gets one object carrying its message.
            $steps = @($r.steps)
            if ($steps.Count -eq 0) { $steps = @($null) }
            foreach ($s in $steps) {
                [PSCustomObject]@{
                    PSTypeName  = 'CrossCloudSync.OnDemandStep'
                    User        = $r.user
                    UserId      = $r.userId
                    Result      = $r.result
                    ErrorCode   = $r.errorCode
                    Step        = $s.name
                    Status      = $s.status
                    Description = if ($s) { $s.description } else { $r.message }
                }
            }
        }
        if ($problem) { $PSCmdlet.WriteError($problem) }
    }
}
