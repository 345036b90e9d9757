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
    Seconds to wait for each authority to answer.

    .EXAMPLE
    Find-CcsTenantCloud -Tenant fabrikam.onmicrosoft.us

    .EXAMPLE
    'contoso.com', 'fabrikam.us' | Find-CcsTenantCloud | Select-Object Tenant, Cloud, TenantId
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $Tenant,

        [string[]] $LoginUrl,

        [string] $CaBundle,

        [ValidateRange(1, 600)]
        [double] $TimeoutSec = 15
    )

    process {
        $arguments = @($Tenant)
        foreach ($url in $LoginUrl) { $arguments += @('--login-url', $url) }
        if ($CaBundle) { $arguments += @('--ca-bundle', (Resolve-Path -LiteralPath $CaBundle).ProviderPath) }
        $arguments += @('--timeout', [string]$TimeoutSec)
        $document = Invoke-CcsCli -Command 'clouds detect' -Arguments $arguments
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
