function Find-CcsTenantCloud {
    <#
    .SYNOPSIS
    Tells which Microsoft cloud a tenant lives in, from its public OpenID configuration.

    .DESCRIPTION
    Wraps 'ccsync clouds detect'. Needs no credentials: it reads the tenant's OpenID configuration from the
    global authority, then the China one, and names the cloud (commercial, gcc, gcch, dod, china), the tenant
    ID and the evidence. Fails with ccsync's message when no cloud knows the tenant.

    .PARAMETER Tenant
    Tenant ID (GUID) or a verified domain, e.g. contoso.onmicrosoft.com. Accepts pipeline input.

    .PARAMETER LoginUrl
    Sign-in authorities to ask instead of the global and China ones (e.g. the simulator's login URL).

    .PARAMETER CaBundle
    PEM file of CA certificates to trust for these requests (e.g. the CA bundle 'ccsync sim serve' prints).

    .PARAMETER TimeoutSec
    Seconds to wait for each authority to answer (ccsync's default: 15).

    .EXAMPLE
    Find-CcsTenantCloud -Tenant fabrikam.onmicrosoft.us

    .EXAMPLE
    'contoso.com', 'fabrikam.us' | Find-CcsTenantCloud | Select-Object Tenant, Cloud, TenantId

    .LINK
    Get-CcsCloud

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $Tenant,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string[]] $LoginUrl,

        [string] $CaBundle,

        [ValidateRange(1, 600)]
        [double] $TimeoutSec
    )

    process {
        $document = Invoke-CcsCli -Command 'clouds detect' -BoundParameters $PSBoundParameters
        [PSCustomObject]@{
            PSTypeName  = 'CrossCloudSync.TenantCloud'
            Tenant      = $document.tenant
            TenantId    = $document.tenantId
            Cloud       = $document.cloud
            DisplayName = $document.displayName
            Note        = $document.note
            Evidence    = $document.evidence
        }
    }
}
