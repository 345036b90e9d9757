@{
    RootModule           = 'CrossCloudSync.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = 'f8349b76-615b-4ebf-bd5b-421161abc641'
    Author               = 'ccsync contributors'
    CompanyName          = 'ccsync'
    Copyright            = '(c) ccsync contributors. MIT License.'
    Description          = 'Microsoft Entra cross-cloud user synchronization (commercial, GCC, GCC High, DoD, China): PowerShell cmdlets over the ccsync command line.'
    PowerShellVersion    = '7.2'
    CompatiblePSEditions = @('Core')
    FunctionsToExport    = @(
        'Connect-CcsTenant'
        'Disable-CcsCrossTenantSync'
        'Enable-CcsCrossTenantSync'
        'Export-CcsTenant'
        'Find-CcsTenantCloud'
        'Get-CcsCloud'
        'Get-CcsCrossTenantSyncStatus'
        'Get-CcsLicenseEligibility'
        'Invoke-CcsCrossTenantSyncProvisioning'
        'Invoke-CcsSyncPlan'
        'New-CcsSyncPlan'
        'Restart-CcsCrossTenantSync'
        'Start-CcsCrossTenantSync'
        'Start-CcsDemo'
        'Suspend-CcsCrossTenantSync'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('Entra', 'AzureAD', 'MicrosoftGraph', 'CrossTenantSync', 'GCCHigh', 'DoD', 'NationalCloud')
        }
    }
}
