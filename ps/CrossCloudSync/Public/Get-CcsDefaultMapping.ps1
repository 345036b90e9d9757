function Get-CcsDefaultMapping {
    <#
    .SYNOPSIS
    Returns ccsync's default attribute mapping file (Entra cross-tenant synchronization's defaults) as text.

    .DESCRIPTION
    Wraps 'ccsync plan --show-default-mapping'. Start a custom mapping from it: save it, edit the lines of the
    attributes to change (Entra's expression syntax), and give the file to New-CcsSyncPlan -MappingFile.

    .EXAMPLE
    Get-CcsDefaultMapping | Set-Content -Path ./mapping.map

    Writes the default mapping to a file to edit.

    .LINK
    New-CcsSyncPlan

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    [string](Invoke-CcsCli -Command 'plan' -Arguments '--show-default-mapping')
}
