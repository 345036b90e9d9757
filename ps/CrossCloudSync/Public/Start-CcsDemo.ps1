function Start-CcsDemo {
    <#
    .SYNOPSIS
    Runs the ccsync demo against the simulated clouds and emits one summary object per simulated tenant.

    .DESCRIPTION
    Wraps 'ccsync demo'. Starts the simulated Microsoft clouds in-process, signs in to each seeded tenant
    through the real sign-in path, and reads its users and subscribed SKUs through the real Graph client.
    Needs no tenant, no secret and no internet access. A tenant whose steps failed is emitted with Status
    'Failed' and its error, and a non-terminating error is written after all tenants.

    .PARAMETER OutDir
    Also write demo.json and, per tenant, the users and SKUs Graph returned into this directory.

    .EXAMPLE
    Start-CcsDemo | Format-Table Profile, Cloud, Users, Skus, GraphRequests, Status

    .EXAMPLE
    Start-CcsDemo -OutDir ./demo-output
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [string] $OutDir
    )

    $arguments = @()
    if ($OutDir) { $arguments += @('--out', $OutDir) }
    $failure = $null
    try {
        $document = Invoke-CcsCli -Command 'demo' -Arguments $arguments
    }
    catch {
        # Exit 1 with a result document: some tenants failed. Emit every tenant, then report the failure.
        $result = $_.TargetObject
        if ($null -eq $result -or $result -is [string] -or $result.PSObject.Properties.Name -notcontains 'tenants') {
            $PSCmdlet.ThrowTerminatingError($_)
        }
        $document = $result
        $failure = $_
    }
    foreach ($tenant in $document.tenants) {
        $steps = $tenant.steps
        $hasError = $tenant.PSObject.Properties.Name -contains 'error'
        [PSCustomObject]@{
            PSTypeName    = 'CrossCloudSync.DemoTenant'
            Profile       = $tenant.profile
            Cloud         = $tenant.cloud
            Tenant        = $tenant.tenant
            Organization  = if ($steps.PSObject.Properties.Name -contains 'signIn') { $steps.signIn.organization } else { $null }
            Users         = if ($steps.PSObject.Properties.Name -contains 'users') { $steps.users.count } else { $null }
            Skus          = if ($steps.PSObject.Properties.Name -contains 'subscribedSkus') { $steps.subscribedSkus.count } else { $null }
            GraphRequests = if ($tenant.graphCalls) { $tenant.graphCalls.requests } else { $null }
            Status        = if ($hasError) { 'Failed' } else { 'Succeeded' }
            Error         = if ($hasError) { $tenant.error.message } else { $null }
        }
    }
    if ($failure) { $PSCmdlet.WriteError($failure) }
}
