function Connect-CcsTenant {
    <#
    .SYNOPSIS
    Signs in with a ccsync profile and shows the cloud, tenant, app and permissions of the token.

    .DESCRIPTION
    Wraps 'ccsync login --profile'. The profile (in the ccsync config file) names the cloud, tenant, app and
    authentication method. The client secret is read by ccsync from the environment variable the profile
    names (secret_env); it is never a parameter of this cmdlet. The token is cached privately by ccsync for
    later commands. Accepts profile names from the pipeline (property ProfileName or Profile).

    .PARAMETER ProfileName
    Name of the profile in the config file (alias: Profile).

    .PARAMETER UseCache
    Accept a cached token instead of asking the identity platform for a new one (the result says how old it
    is). Without it, the credentials are proved now, so a wrong or expired secret is found here.

    .PARAMETER ConfigPath
    Profiles file (TOML). Default: $env:CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.

    .EXAMPLE
    $env:CCSYNC_CONTOSO_SECRET = Read-Host -AsSecureString | ConvertFrom-SecureString -AsPlainText
    Connect-CcsTenant -Profile contoso

    Signs in and lists the application permissions (Roles) the token carries.

    .LINK
    Export-CcsTenant

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

        [switch] $UseCache,

        [string] $ConfigPath
    )

    process {
        $document = Invoke-CcsCli -Command 'login' -BoundParameters $PSBoundParameters
        [PSCustomObject]@{
            PSTypeName = 'CrossCloudSync.Login'
            Profile    = $document.profile
            Cloud      = $document.cloud
            TenantId   = $document.tenantId
            AppId      = $document.appId
            Auth       = $document.auth
            Roles      = @($document.roles)
            Scopes     = @($document.scopes)
            ExpiresOn  = $document.expiresOn
            User       = if ($document.PSObject.Properties.Name -contains 'user') { $document.user } else { $null }
        }
    }
}
