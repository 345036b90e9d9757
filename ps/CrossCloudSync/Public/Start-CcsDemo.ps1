function Start-CcsDemo {
    <#
    .SYNOPSIS
    Runs the ccsync demo against the simulated clouds and emits one summary object per simulated tenant.

    .DESCRIPTION
    Wraps 'ccsync demo'. Starts the simulated Microsoft clouds in-process, signs in to each seeded tenant
    through the real sign-in path, and reads its users and subscribed SKUs through the real Graph client; then
    exports, checks eligibility, plans and applies the Contoso -> Fabrikam Federal scenario in the simulator.
    Needs no tenant, no secret and no internet access, and changes no real tenant. A tenant whose steps failed
    is emitted with Status 'Failed' and its error, and a non-terminating error is written after all tenants.

    .PARAMETER OutDir
    Write demo.json, the snapshots, workbooks and plan into this directory.

    .PARAMETER SeedDir
    Folder of seed files (samples/tenants by default) to start the simulated tenants from.

    .EXAMPLE
    Start-CcsDemo | Format-Table Profile, Cloud, Users, Skus, GraphRequests, Status

    .EXAMPLE
    Start-CcsDemo -OutDir ./demo-output

    .LINK
    about_CrossCloudSync
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [string] $OutDir,

        [string] $SeedDir
    )

    $problem = $null
    $document = Invoke-CcsCli -Command 'demo' -BoundParameters $PSBoundParameters -Problem ([ref]$problem)
    foreach ($tenant in $document.tenants) {
        $steps = $tenant.steps
        $hasError = $tenant.PSObject.Properties.Name -contains 'error' -and $null -ne $tenant.error
        $stepNames = if ($steps) { $steps.PSObject.Properties.Name } else { @() }
        [PSCustomObject]@{
            PSTypeName    = 'CrossCloudSync.DemoTenant'
            Profile       = $tenant.profile
            Cloud         = $tenant.cloud
            Tenant        = $tenant.tenant
            Organization  = if ($stepNames -contains 'signIn') { $steps.signIn.organization } else { $null }
            Users         = if ($stepNames -contains 'users') { $steps.users.count } else { $null }
            Skus          = if ($stepNames -contains 'subscribedSkus') { $steps.subscribedSkus.count } else { $null }
            GraphRequests = if ($tenant.PSObject.Properties.Name -contains 'graphCalls' -and $tenant.graphCalls) { $tenant.graphCalls.requests } else { $null }
            Status        = if ($hasError) { 'Failed' } else { 'Succeeded' }
            Error         = if ($hasError) { $tenant.error.message } else { $null }
        }
    }
    # Exit 1 with a result document: some tenants failed. Emitted above; now reported.
    if ($problem) { $PSCmdlet.WriteError($problem) }
}
