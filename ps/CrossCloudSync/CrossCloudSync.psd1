@{
    RootModule           = 'CrossCloudSync.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = 'f8349b76-615b-4ebf-bd5b-421161abc641'
    Author               = 'ccsync contributors'
    CompanyName          = 'ccsync'
    Copyright            = '(c) ccsync contributors. MIT License.'
    Description          = 'Microsoft Entra cross-cloud user synchronization (commercial, GCC, GCC High, DoD, China): PowerShell cmdlets over the ccsync engine, in-process through pythonnet or through the ccsync command line.'
    PowerShellVersion    = '7.2'
    CompatiblePSEditions = @('Core')
    FunctionsToExport    = @(
        'Connect-CcsTenant'
        'Disable-CcsCrossTenantSync'
        'Enable-CcsCrossTenantSync'
        'Export-CcsReport'
        'Export-CcsTenant'
        'Find-CcsTenantCloud'
        'Get-CcsBridge'
        'Get-CcsCloud'
        'Get-CcsCrossTenantSyncStatus'
        'Get-CcsDefaultMapping'
        'Get-CcsLicenseEligibility'
        'Get-CcsProvisioningLog'
        'Invoke-CcsCrossTenantSyncProvisioning'
        'Invoke-CcsSyncPlan'
        'New-CcsMigrationPlan'
        'New-CcsSyncPlan'
        'Restart-CcsCrossTenantSync'
        'Start-CcsCrossTenantSync'
        'Start-CcsDemo'
        'Suspend-CcsCrossTenantSync'
        'Test-CcsMigrationCsv'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    FormatsToProcess     = @('CrossCloudSync.Format.ps1xml')
    # Updatable help would be served from here; the module ships its help inline and in en-US/. This URI,
    # ProjectUri and LicenseUri follow pyproject.toml's [project.urls] (placeholders until a public home).
    HelpInfoURI          = 'https://github.com/ccsync/ccsync/tree/main/ps/CrossCloudSync/en-US'
    PrivateData          = @{
        PSData = @{
            Tags       = @('Entra', 'AzureAD', 'MicrosoftGraph', 'CrossTenantSync', 'GCCHigh', 'DoD', 'NationalCloud')
            ProjectUri = 'https://github.com/ccsync/ccsync'
            LicenseUri = 'https://github.com/ccsync/ccsync/blob/main/LICENSE'
        }
    }
}
