function Get-CcsCloud {
    <#
    .SYNOPSIS
    Lists the Microsoft clouds ccsync knows, or the cloud pairs Entra cross-tenant synchronization supports.

    .DESCRIPTION
    Wraps 'ccsync clouds'. For each cloud (commercial, gcc, gcch, dod, china) emits its sign-in URL, Graph URL,
    app-only scope, portals and the allowedCloudEndpoints value that names it in cross-tenant access settings.
    With -Pair, emits the supported source/target pairs instead, with their kind (same-cloud or cross-cloud)
    and any caveat.

    .PARAMETER Name
    Only these clouds (e.g. 'gcch', 'dod'). Default: all.

    .PARAMETER Pair
    Emit the supported synchronization pairs instead of the clouds.

    .EXAMPLE
    Get-CcsCloud -Name gcch | Format-List

    Shows the GCC High endpoints and its allowedCloudEndpoints value.

    .EXAMPLE
    Get-CcsCloud -Pair | Where-Object Kind -eq 'cross-cloud'

    Lists the cross-cloud pairs.

    .LINK
    Find-CcsTenantCloud

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Position = 0)]
        [string[]] $Name,

        [switch] $Pair
    )

    $document = Invoke-CcsCli -Command 'clouds' -BoundParameters $PSBoundParameters
    if ($Pair) {
        foreach ($item in $document.pairs) {
            [PSCustomObject]@{
                PSTypeName = 'CrossCloudSync.CloudPair'
                Source     = $item.source
                Target     = $item.target
                Kind       = $item.kind
                Note       = $item.note
            }
        }
        return
    }
    foreach ($cloud in $document.clouds) {
        if ($Name -and $Name -notcontains $cloud.name) { continue }
        [PSCustomObject]@{
            PSTypeName           = 'CrossCloudSync.Cloud'
            Name                 = $cloud.name
            DisplayName          = $cloud.displayName
            LoginUrl             = $cloud.loginUrl
            GraphUrl             = $cloud.graphUrl
            GraphScope           = $cloud.graphScope
            EntraPortal          = $cloud.entraPortal
            AzurePortal          = $cloud.azurePortal
            AllowedCloudEndpoint = $cloud.allowedCloudEndpoint
        }
    }
}
