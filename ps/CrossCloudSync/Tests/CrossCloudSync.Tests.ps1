#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Run: Invoke-Pester ./ps/CrossCloudSync/Tests
# The bridge is mocked at one private function, Invoke-CcsEngine (the only one that talks to Python), so these
# tests check what the module does with ccsync's answers: arguments built from parameters, objects emitted,
# errors, ShouldProcess, progress. An admin's answers to ShouldProcess are played by mocking Confirm-CcsChange,
# the one private function that asks (PowerShell's own prompt cannot be answered from a test). Path parameters
# reach ccsync as full paths (resolved against the current location): expectations use Get-FullPath. The last
# block runs against the real ccsync when it is installed.

BeforeDiscovery {
    $script:ModuleRoot = Split-Path -Parent $PSScriptRoot
    $script:PublicNames = (Get-ChildItem -Path (Join-Path $ModuleRoot 'Public') -Filter '*.ps1').BaseName
}

BeforeAll {
    $script:ModuleRoot = Split-Path -Parent $PSScriptRoot
    $script:ManifestPath = Join-Path $ModuleRoot 'CrossCloudSync.psd1'
    Import-Module $ManifestPath -Force

    # What Invoke-CcsEngine returns, for mocks.
    function script:New-Outcome {
        param($Document, [int] $ExitCode = 0, $ErrorInfo = $null)
        [pscustomobject]@{ Document = $Document; ExitCode = $ExitCode; Error = $ErrorInfo; Mode = 'Cli' }
    }

    # ccsync's documents carry every field (the module runs under Set-StrictMode -Version Latest, where a
    # missing property is an error): an applied operation (toolkit/frames.py APPLY_RESULTS) and a setup call.
    function script:New-Op {
        param([hashtable] $Fields)
        $op = [ordered]@{ opId = $null; kind = $null; state = $null; sourceUpn = $null; targetUpn = $null; targetId = $null
            httpStatus = $null; errorCode = $null; message = $null; requestId = $null; action = $null }
        foreach ($key in $Fields.Keys) { $op[$key] = $Fields[$key] }
        [pscustomobject]$op
    }
    function script:New-SetupCall {
        param([hashtable] $Fields)
        $call = [ordered]@{ tenant = $null; tenantId = $null; cloud = 'commercial'; step = $null; method = $null; path = $null
            body = $null; purpose = $null; state = 'planned'; status = $null }
        foreach ($key in $Fields.Keys) { $call[$key] = $Fields[$key] }
        [pscustomobject]$call
    }

    # A relative path as the module hands it to ccsync: the full path under the current location.
    function script:Get-FullPath {
        param([string] $RelativePath)
        Join-Path -Path (Get-Location -PSProvider FileSystem).ProviderPath -ChildPath $RelativePath
    }
}

AfterAll {
    Remove-Module CrossCloudSync -ErrorAction SilentlyContinue
}

Describe 'Module manifest' {
    It 'is valid and targets PowerShell 7.2' {
        $manifest = Test-ModuleManifest -Path $ManifestPath
        $manifest.Version | Should -Be ([version]'0.1.0')
        $manifest.PowerShellVersion | Should -Be ([version]'7.2')
        $manifest.ProjectUri | Should -Not -BeNullOrEmpty
        $manifest.LicenseUri | Should -Not -BeNullOrEmpty
        $manifest.HelpInfoUri | Should -Not -BeNullOrEmpty
    }

    It 'exports exactly the functions in Public/' {
        $public = (Get-ChildItem -Path (Join-Path $ModuleRoot 'Public') -Filter '*.ps1').BaseName | Sort-Object
        $exported = (Get-Module CrossCloudSync).ExportedFunctions.Keys | Sort-Object
        $exported | Should -Be $public
        (Import-PowerShellDataFile $ManifestPath).FunctionsToExport | Sort-Object | Should -Be $public
    }

    It 'does not export the private helpers' {
        foreach ($name in 'Invoke-CcsCli', 'Invoke-CcsEngine', 'Initialize-CcsBridge', 'ConvertTo-CcsCliArgument') {
            Get-Command -Module CrossCloudSync -Name $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }
    }

    It 'has a default view for every output type' {
        $views = (Get-FormatData -TypeName 'CrossCloudSync.*').TypeNames
        foreach ($type in 'CrossCloudSync.Cloud', 'CrossCloudSync.Eligibility', 'CrossCloudSync.PlannedOperation',
            'CrossCloudSync.AppliedOperation', 'CrossCloudSync.Bridge') {
            $views | Should -Contain $type
        }
    }

    It 'ships the about_CrossCloudSync topic' {
        Get-Help about_CrossCloudSync | Out-String | Should -Match 'Get-CcsBridge'
    }
}

Describe 'Help of <_>' -ForEach $PublicNames {
    BeforeAll {
        $script:Help = Get-Help -Name $_ -Full
        $script:Command = Get-Command -Name $_
    }

    It 'has a synopsis, a description, an example and a link' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        $Help.Synopsis | Should -Not -Match "^\s*$([regex]::Escape($_))"
        ($Help.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty
        @($Help.Examples.Example).Count | Should -BeGreaterThan 0
        @($Help.relatedLinks.navigationLink).Count | Should -BeGreaterThan 0
    }

    It 'describes every parameter' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters +
            [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($name in $Command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $parameterHelp = $Help.Parameters.Parameter | Where-Object Name -EQ $name
            ($parameterHelp.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$name needs a description"
        }
    }
}

Describe 'Cmdlets build ccsync arguments from their parameters' {
    It 'Get-CcsCloud runs "clouds" and filters by -Name in PowerShell' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -Document ([pscustomobject]@{
                    clouds = @(
                        [pscustomobject]@{ name = 'commercial'; loginUrl = 'https://login.microsoftonline.com'; graphUrl = 'https://graph.microsoft.com' }
                        [pscustomobject]@{ name = 'gcch'; loginUrl = 'https://login.microsoftonline.us'; graphUrl = 'https://graph.microsoft.us' }
                    )
                    pairs  = @([pscustomobject]@{ source = 'commercial'; target = 'gcch'; kind = 'cross-cloud'; note = 'preview' })
                })
        }
        $clouds = @(Get-CcsCloud)
        $clouds.Count | Should -Be 2
        $clouds[1].GraphUrl | Should -Be 'https://graph.microsoft.us'
        (@(Get-CcsCloud -Name gcch)).Name | Should -Be 'gcch'
        (@(Get-CcsCloud -Pair))[0].Kind | Should -Be 'cross-cloud'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 3 -Exactly -ParameterFilter {
            $Command -eq 'clouds' -and @($Arguments).Count -eq 0
        }
    }

    It 'Find-CcsTenantCloud passes the tenant as the argument, per piped tenant' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -Document ([pscustomobject]@{ tenant = $Arguments[0]; tenantId = '11111111-2222-3333-4444-555555555555'; cloud = 'gcch'; note = '' })
        }
        $result = @('fabrikam.us', 'contoso.com' | Find-CcsTenantCloud -LoginUrl 'https://127.0.0.1:8443' -TimeoutSec 5)
        $result.Count | Should -Be 2
        $result[0].Tenant | Should -Be 'fabrikam.us'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'clouds detect' -and $Arguments[0] -eq 'fabrikam.us' -and
            ($Arguments -join ' ') -match '--login-url https://127\.0\.0\.1:8443' -and ($Arguments -join ' ') -match '--timeout 5'
        }
    }

    It 'Connect-CcsTenant runs "login --profile" and never passes a secret' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -Document ([pscustomobject]@{ profile = 'contoso'; cloud = 'commercial'; tenantId = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'
                    appId = '00000000-0000-0000-0000-000000000001'; roles = @('User.Read.All'); scopes = @()
                    expiresOn = [datetime]'2026-01-01T00:00:00Z'; auth = 'secret' })
        }
        $login = Connect-CcsTenant -Profile contoso
        $login.Roles | Should -Be @('User.Read.All')
        $login.ExpiresOn | Should -BeOfType [datetime]
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'login' -and ($Arguments -join ' ') -eq '--profile contoso' -and -not ($Arguments -match 'secret|password')
        }
    }

    It 'Export-CcsTenant repeats --group and maps -OutDir to --out' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -Document ([pscustomobject]@{ tenantId = 't1'; displayName = 'Contoso'; cloud = 'commercial'; exportedAt = 'x'
                    counts = [pscustomobject]@{ users = 43; license_assignments = 66; skus = 10; group_members = 26 }
                    graphCalls = [pscustomobject]@{ requests = 7 }; snapshot = 'snap' })
        }
        $export = Export-CcsTenant -Profile contoso -Group 'CCS-Sync-Scope', 'Pilot' -OutDir snap
        $export.Users | Should -Be 43
        $export.Snapshot | Should -Be 'snap'
        $expected = "--profile contoso --group CCS-Sync-Scope --group Pilot --out $(Get-FullPath 'snap')"
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'export' -and ($Arguments -join ' ') -eq $expected
        }
    }

    It 'Get-CcsLicenseEligibility emits every user when ccsync exits 1 for unlicensed users' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -ExitCode 1 -Document ([pscustomobject]@{ users = @(
                        [pscustomobject]@{ userPrincipalName = 'a@contoso.com'; eligible = $true; status = 'eligible' },
                        [pscustomobject]@{ userPrincipalName = 'b@contoso.com'; eligible = $false; status = 'missing_governance' }
                    ) })
        }
        $users = @(Get-CcsLicenseEligibility -Source ./snap -TargetCloud gcch -ErrorAction Stop)
        $users.Count | Should -Be 2
        ($users | Where-Object { -not $_.Eligible }).Status | Should -Be 'missing_governance'
    }

    It 'Get-CcsLicenseEligibility takes the snapshot from Export-CcsTenant through the pipeline' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine { New-Outcome -Document ([pscustomobject]@{ users = @() }) }
        [pscustomobject]@{ Snapshot = './snap-a' }, [pscustomobject]@{ Snapshot = './snap-b' } |
            Get-CcsLicenseEligibility -TargetCloud gcch
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 2 -Exactly -ParameterFilter { $Command -eq 'eligibility' }
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter { ($Arguments -join ' ') -match '--source ./snap-b' }
    }

    It 'New-CcsSyncPlan lower-cases choices and leaves defaults to ccsync' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -Document ([pscustomobject]@{ planFile = 'plan.json'; operations = @(
                        [pscustomobject]@{ opId = 'cre-1'; kind = 'create'; held = $false; sourceUpn = 'a@contoso.com' }
                    ) })
        }
        $ops = @(New-CcsSyncPlan -Source s -Target t -OutFile plan.json -OnDeprovision Disable -AllowOlderTarget)
        $ops.Count | Should -Be 1
        $ops[0].PlanFile | Should -Be 'plan.json'
        $out = '--out ' + [regex]::Escape((Get-FullPath 'plan.json'))
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $line = $Arguments -join ' '
            $Command -eq 'plan' -and $line -match '--on-deprovision disable' -and $line -match '--allow-older-target' -and
            $line -notmatch '--create-as' -and $line -notmatch '--deletion-threshold' -and $line -match $out -and
            $line -match '--source s ' -and $line -match '--target t '
        }
    }

    It 'Get-CcsProvisioningLog runs "logs fetch" with its options and emits one object per log kind' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -Document ([pscustomobject]@{ tenantId = 't1'; archive = 'a.sqlite'; throttled = 0; kinds = @(
                        [pscustomobject]@{ kind = 'provisioning'; fetched = 5; new = 5; stored = 5; windows = 1 },
                        [pscustomobject]@{ kind = 'audit'; fetched = 2; new = 1; stored = 9; windows = 1 }) })
        }
        $fetched = @(Get-CcsProvisioningLog -Profile contoso -Since 7d -JobId job1 -Archive a.sqlite -Kind Provisioning)
        $fetched.Count | Should -Be 2
        $fetched[1].InArchive | Should -Be 9
        $fetched[0].PSObject.TypeNames[0] | Should -Be 'CrossCloudSync.LogFetch'
        $archive = '--archive ' + [regex]::Escape((Get-FullPath 'a.sqlite'))
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $line = $Arguments -join ' '
            $Command -eq 'logs fetch' -and $line -match '--profile contoso' -and $line -match '--since 7d' -and
            $line -match '--job job1' -and $line -match $archive -and $line -match '--kind provisioning' -and
            $line -notmatch '--job-id'
        }
    }

    It 'Export-CcsReport runs "report provisioning" or "report audit" by -Kind, never passing -Kind' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -Document ([pscustomobject]@{ kind = 'audit'; report = 'audit.xlsx'
                    summary = [pscustomobject]@{ sourceName = 'x'; events = 3; failures = 0; skippedRecords = 1; duplicates = 0 } })
        }
        $report = Export-CcsReport -Kind Audit -Archive a.sqlite -OutFile audit.xlsx
        $report.Events | Should -Be 3
        $report.SkippedRecords | Should -Be 1
        $out = '--out ' + [regex]::Escape((Get-FullPath 'audit.xlsx'))
        $archive = '--archive ' + [regex]::Escape((Get-FullPath 'a.sqlite'))
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $line = $Arguments -join ' '
            $Command -eq 'report audit' -and $line -match $out -and $line -match $archive -and
            $line -notmatch '--kind'
        }
    }

    It 'Export-CcsReport expands wildcards and passes the files as arguments' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -Document ([pscustomobject]@{ kind = 'provisioning'; report = 'p.xlsx'; summary = [pscustomobject]@{ events = 0 } })
        }
        $folder = Join-Path $TestDrive 'logs'
        $null = New-Item -ItemType Directory -Path $folder
        'a', 'b' | ForEach-Object { Set-Content -Path (Join-Path $folder "ProvisioningLogs-$_.csv") -Value 'x' }
        $null = Export-CcsReport -Kind Provisioning -Path (Join-Path $folder 'ProvisioningLogs-*.csv') -OutFile p.xlsx
        $out = '--out ' + [regex]::Escape((Get-FullPath 'p.xlsx'))
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'report provisioning' -and $Arguments[0] -like '*ProvisioningLogs-a.csv' -and
            $Arguments[1] -like '*ProvisioningLogs-b.csv' -and ($Arguments -join ' ') -match $out
        }
    }

    It 'New-CcsSyncPlan -Job plans through the entra engine without -Source' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -Document ([pscustomobject]@{ planFile = 'entra.json'; engine = 'entra'; operations = @(
                        [pscustomobject]@{ opId = 'cre-1'; kind = 'create'; held = $false; sourceUpn = 'a@contoso.com' }) })
        }
        $ops = @(New-CcsSyncPlan -Job contoso-ccsync -JobId job1 -Configuration 'To Fabrikam' -Target fabrikam -OutFile entra.json)
        $ops[0].PlanFile | Should -Be 'entra.json'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $line = $Arguments -join ' '
            $Command -eq 'plan' -and $line -match '--job contoso-ccsync' -and $line -match '--job-id job1' -and
            $line -match '--configuration To Fabrikam' -and $line -notmatch '--source'
        }
    }

    It 'New-CcsSyncPlan -SchemaFile plans offline with the assigned groups' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine { New-Outcome -Document ([pscustomobject]@{ planFile = 'p.json'; operations = @() }) }
        $null = New-CcsSyncPlan -Source ./snap -Target ./fab -SchemaFile schema.json -AssignedGroup 'G1', 'G2' -SyncAll -ProvisioningLog logs.json -Engine Entra -OutFile p.json
        $schema = '--schema ' + [regex]::Escape((Get-FullPath 'schema.json'))
        $logs = '--provisioning-log ' + [regex]::Escape((Get-FullPath 'logs.json'))
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $line = $Arguments -join ' '
            $line -match $schema -and $line -match '--assigned-group G1 --assigned-group G2' -and
            $line -match '--sync-all' -and $line -match $logs -and $line -match '--engine entra'
        }
    }

    It 'New-CcsSyncPlan refuses -Job together with -SchemaFile (one way to read the job)' {
        { New-CcsSyncPlan -Job contoso -SchemaFile s.json -Target t -OutFile p.json } | Should -Throw
    }
}

Describe "Entra's own sync: one confirmation per tenant pair, job or user" {
    BeforeEach {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            $state = if ($Arguments -contains '--what-if') { 'planned' } else { 'sent' }
            $call = New-SetupCall @{ tenant = 'source'; tenantId = 't1'; step = 'source.start'; method = 'POST'; path = '/x/start'; purpose = 'start'; state = $state }
            switch ($Command) {
                'xts enable' {
                    New-Outcome -Document ([pscustomobject]@{ calls = @($call); sent = @($call)
                            manualSteps = @([pscustomobject]@{ tenant = 'target'; key = 'portal'; instructions = 'do it'; status = 'verified'; evidence = 'test connection' }) })
                }
                'xts disable' { New-Outcome -Document ([pscustomobject]@{ whatIf = ($Arguments -contains '--what-if'); calls = @($call); sent = @($call) }) }
                'xts provision' {
                    New-Outcome -Document ([pscustomobject]@{ results = @(
                                [pscustomobject]@{ user = 'a@contoso.com'; userId = 'u1'; result = 'success'
                                    steps = @([pscustomobject]@{ name = 'EntryImport'; status = 'success'; description = 'read' }) }) })
                }
                default { New-Outcome -Document ([pscustomobject]@{ action = $Command.Split(' ')[1]; jobId = 'job1'; servicePrincipalId = 'sp1'; call = $call }) }
            }
        }
    }

    It 'Enable-CcsCrossTenantSync -WhatIf asks ccsync for the calls with --what-if and emits nothing' {
        $out = @(Enable-CcsCrossTenantSync -Source contoso -Target fabrikam -Group 'G1', 'G2' -WhatIf)
        $out.Count | Should -Be 0
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $line = $Arguments -join ' '
            $Command -eq 'xts enable' -and $Arguments -contains '--what-if' -and $Arguments -notcontains '--yes' -and
            $line -match '--source contoso' -and $line -match '--target fabrikam' -and $line -match '--group G1 --group G2' -and
            $line -notmatch '--deletion-threshold'
        }
    }

    It 'Enable-CcsCrossTenantSync -Confirm:$false sends --yes and emits calls and manual steps' {
        $out = @(Enable-CcsCrossTenantSync -Source contoso -Target fabrikam -DeletionThreshold 50 -Confirm:$false)
        ($out | Where-Object Kind -eq 'Call').Status | Should -Be 'sent'
        ($out | Where-Object Kind -eq 'ManualStep').Status | Should -Be 'verified'
        $out[0].PSObject.TypeNames[0] | Should -Be 'CrossCloudSync.SyncSetupCall'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'xts enable' -and $Arguments -contains '--yes' -and ($Arguments -join ' ') -match '--deletion-threshold 50'
        }
    }

    It 'Enable-CcsCrossTenantSync emits the steps done and left, then the error, when it stops part-way' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -ExitCode 1 -Document ([pscustomobject]@{ done = @('partner entry'); remaining = @('job') }) `
                -ErrorInfo ([pscustomobject]@{ ErrorId = 'Ccsync.SyncSetupIncomplete'; Category = 'InvalidArgument'
                    Message = 'a portal step is not done'; Hint = 'Do it, then run again.'; Exception = $null })
        }
        $out = @(Enable-CcsCrossTenantSync -Source contoso -Target fabrikam -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue)
        ($out | ForEach-Object Status) | Should -Be @('done', 'left')
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'Ccsync.SyncSetupIncomplete*'
    }

    It 'Disable-CcsCrossTenantSync -Confirm:$false sends --yes and emits the calls sent' {
        $out = @(Disable-CcsCrossTenantSync -Source contoso -Target fabrikam -Policies -Confirm:$false)
        $out.Count | Should -Be 1
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'xts disable' -and $Arguments -contains '--yes' -and $Arguments -contains '--policies'
        }
    }

    It '<_> -WhatIf shows the call and sends nothing' -ForEach @('Suspend-CcsCrossTenantSync', 'Start-CcsCrossTenantSync', 'Restart-CcsCrossTenantSync') {
        $out = @(& $_ -Source contoso -JobId job1 -WhatIf)
        $out.Count | Should -Be 0
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Arguments -contains '--what-if' -and $Arguments -notcontains '--yes' -and ($Arguments -join ' ') -match '--job job1'
        }
    }

    It 'Suspend-CcsCrossTenantSync -Confirm:$false pauses the job (no --yes: pause takes none)' {
        $action = Suspend-CcsCrossTenantSync -Source contoso -Confirm:$false
        $action.PSObject.TypeNames[0] | Should -Be 'CrossCloudSync.SyncJobAction'
        $action.Status | Should -Be 'sent'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'xts pause' -and @($Arguments).Count -eq 2 -and ($Arguments -join ' ') -eq '--source contoso'
        }
    }

    It 'Restart-CcsCrossTenantSync -ForceDeletes -Confirm:$false sends --force-deletes and --yes' {
        $null = Restart-CcsCrossTenantSync -Source contoso -ForceDeletes -Confirm:$false
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'xts restart' -and $Arguments -contains '--force-deletes' -and $Arguments -contains '--yes'
        }
    }

    It 'Invoke-CcsCrossTenantSyncProvisioning provisions piped users in one run, the users as arguments' {
        $piped = @([pscustomobject]@{ UserPrincipalName = 'a@contoso.com' }, [pscustomobject]@{ UserPrincipalName = 'b@contoso.com' })
        $steps = @($piped | Invoke-CcsCrossTenantSyncProvisioning -Source contoso -JobId job1 -Confirm:$false)
        $steps[0].Step | Should -Be 'EntryImport'
        $steps[0].PSObject.TypeNames[0] | Should -Be 'CrossCloudSync.OnDemandStep'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'xts provision' -and $Arguments[0] -eq 'a@contoso.com' -and $Arguments[1] -eq 'b@contoso.com' -and
            ($Arguments -join ' ') -match '--source contoso' -and ($Arguments -join ' ') -match '--job job1'
        }
    }

    It 'Invoke-CcsCrossTenantSyncProvisioning -WhatIf names each user and provisions none' {
        $out = @(Invoke-CcsCrossTenantSyncProvisioning -Source contoso -User 'a@contoso.com', 'b@contoso.com' -WhatIf)
        $out.Count | Should -Be 0
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 0 -Exactly
    }

    It 'Get-CcsCrossTenantSyncStatus emits the jobs, then an error, when one is in quarantine (exit 1)' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -ExitCode 1 -Document ([pscustomobject]@{ jobs = @(
                        [pscustomobject]@{ configuration = 'c'; jobId = 'job1'; state = 'Quarantine'; failing = $true }) })
        }
        $jobs = @(Get-CcsCrossTenantSyncStatus -Source contoso -JobId job1 -ErrorVariable failures -ErrorAction SilentlyContinue)
        $jobs[0].State | Should -Be 'Quarantine'
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'Ccsync.ProblemsFound*'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'xts status' -and ($Arguments -join ' ') -eq '--source contoso --job job1'
        }
    }
}

Describe 'Invoke-CcsSyncPlan with an entra-engine plan' {
    BeforeEach {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            if ($Arguments -contains '--what-if') {
                New-Outcome -Document ([pscustomobject]@{ whatIf = $true; run = 'start'; scopeChanges = @(
                            [pscustomobject]@{ action = 'addMember'; groupName = 'Sales'; userPrincipalName = 'a@contoso.com' }) })
            }
            else {
                New-Outcome -Document ([pscustomobject]@{ run = 'start'; startedAt = '2026-01-01T00:00:00Z'; mismatches = 0
                        scopeChanges = @(); users = @([pscustomobject]@{ sourceUpn = 'a@contoso.com'; planned = 'create'; observed = 'create'; match = $true }) })
            }
        }
    }

    It '-WhatIf shows the scope changes and the run, and emits nothing' {
        $out = @(Invoke-CcsSyncPlan -Path entra.json -Profile contoso-ccsync -WhatIf)
        $out.Count | Should -Be 0
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter { $Arguments -contains '--what-if' }
    }

    It 'applies through the job with the entra options and emits one run with planned vs. observed' {
        $run = Invoke-CcsSyncPlan -Path entra.json -Profile contoso-ccsync -OnDemand -TimeoutSec 600 -TargetProfile fabrikam -Confirm:$false
        $run.PSObject.TypeNames[0] | Should -Be 'CrossCloudSync.EntraApplyRun'
        $run.Users[0].Match | Should -BeTrue
        $run.Users[0].PSObject.TypeNames[0] | Should -Be 'CrossCloudSync.PlannedVsObserved'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $line = $Arguments -join ' '
            $Arguments -contains '--yes' -and $Arguments -contains '--on-demand' -and $line -match '--timeout 600' -and
            $line -match '--target-profile fabrikam'
        }
    }

    It '-VerifyOnly writes nothing, so it neither asks nor sends --yes' {
        $run = Invoke-CcsSyncPlan -Path entra.json -Profile contoso-ccsync -VerifyOnly -Confirm:$true
        $run.Mismatches | Should -Be 0
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Arguments -contains '--verify-only' -and $Arguments -notcontains '--yes' -and $Arguments -notcontains '--what-if'
        }
    }

    It '-NoWait starts the job and returns' {
        $null = Invoke-CcsSyncPlan -Path entra.json -Profile contoso-ccsync -NoWait -Confirm:$false
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter { $Arguments -contains '--no-wait' }
    }
}

Describe 'Changing a tenant asks first, per item' {
    BeforeEach {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            $state = if ($Arguments -contains '--what-if') { 'planned' } else { 'done' }
            New-Outcome -Document ([pscustomobject]@{ operations = @(
                        New-Op @{ opId = 'cre-1'; kind = 'create'; state = $state; sourceUpn = 'a@contoso.com'; targetUpn = 'a_contoso.com#EXT#@fabrikam.us' }
                        New-Op @{ opId = 'del-1'; kind = 'delete'; state = $state; sourceUpn = 'b@contoso.com'; targetUpn = 'b_contoso.com#EXT#@fabrikam.us' }
                    ) })
        }
    }

    It '-WhatIf runs a what-if check, writes nothing and emits nothing' {
        $ops = @(Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam -WhatIf)
        $ops.Count | Should -Be 0
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'apply' -and $Arguments -contains '--what-if' -and $Arguments -notcontains '--yes'
        }
    }

    It 'applies once per plan file with -Confirm:$false and relays progress events' {
        $piped = @([pscustomobject]@{ PlanFile = 'plan.json' }, [pscustomobject]@{ PlanFile = 'plan.json' })
        $ops = @($piped | Invoke-CcsSyncPlan -Profile fabrikam -Confirm:$false)
        $ops.Count | Should -Be 2
        $ops[0].State | Should -Be 'done'
        $plan = Get-FullPath 'plan.json'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'apply' -and $Arguments -contains '--yes' -and $Arguments -contains $plan -and
            ($Arguments -join ' ') -match '--progress events' -and $Arguments -notcontains '--operation'
        }
        # -Confirm:$false asks nothing, so nothing is listed first: one call, the apply.
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly
    }

    It 'emits the operations, then a non-terminating error, when some failed (exit 1)' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -ExitCode 1 -Document ([pscustomobject]@{ operations = @(
                        New-Op @{ opId = 'cre-1'; kind = 'create'; state = 'failed'; errorCode = 'Request_BadRequest' }) })
        }
        $ops = @(Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue)
        $ops.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'Ccsync.ProblemsFound*'
    }
}

Describe 'Invoke-CcsSyncPlan asks per operation and applies only the approved ones' {
    BeforeEach {
        # What-if: two operations ccsync would carry out and one it would skip (stale); apply: what it sent.
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            $whatIf = $Arguments -contains '--what-if'
            $state = if ($whatIf) { 'planned' } else { 'done' }
            $ops = @(
                New-Op @{ opId = 'cre-1'; kind = 'create'; state = $state; sourceUpn = 'a@contoso.com'; targetUpn = 'a_contoso.com#EXT#@fabrikam.us' }
                New-Op @{ opId = 'del-1'; kind = 'delete'; state = $state; sourceUpn = 'b@contoso.com'; targetUpn = 'b_contoso.com#EXT#@fabrikam.us' }
                New-Op @{ opId = 'upd-1'; kind = 'update'; state = 'skipped'; sourceUpn = 'c@contoso.com'; targetUpn = 'c_contoso.com#EXT#@fabrikam.us' }
            )
            $chosen = @(for ($i = 0; $i -lt $Arguments.Count - 1; $i++) { if ($Arguments[$i] -eq '--operation') { $Arguments[$i + 1] } })
            if ($chosen.Count) { $ops = @($ops | Where-Object { $_.opId -in $chosen }) }
            New-Outcome -Document ([pscustomobject]@{ operations = $ops })
        }
    }

    It 'asks once per operation ccsync would carry out, naming the user and what is done, and applies the approved one with --operation' {
        Mock -ModuleName CrossCloudSync Confirm-CcsChange { $Target -notlike 'b_contoso*' }
        $ops = @(Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam)
        $ops.Count | Should -Be 1
        $ops[0].OperationId | Should -Be 'cre-1'
        $ops[0].State | Should -Be 'done'
        Should -Invoke -ModuleName CrossCloudSync Confirm-CcsChange -Times 2 -Exactly
        Should -Invoke -ModuleName CrossCloudSync Confirm-CcsChange -Times 1 -Exactly -ParameterFilter {
            $Target -eq "a_contoso.com#EXT#@fabrikam.us (profile 'fabrikam')" -and $Action -like 'create from a@contoso.com (operation cre-1*'
        }
        Should -Invoke -ModuleName CrossCloudSync Confirm-CcsChange -Times 0 -Exactly -ParameterFilter { $Action -like '*upd-1*' }
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Arguments -contains '--what-if' -and $Arguments -notcontains '--yes' -and $Arguments -notcontains '--operation'
        }
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $line = $Arguments -join ' '
            $Arguments -contains '--yes' -and $line -match '--operation cre-1' -and $line -notmatch 'del-1'
        }
    }

    It 'applies the whole plan, without --operation, when every operation is approved' {
        Mock -ModuleName CrossCloudSync Confirm-CcsChange { $true }
        $ops = @(Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam)
        $ops.Count | Should -Be 3
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Arguments -contains '--yes' -and $Arguments -notcontains '--operation'
        }
    }

    It 'applies nothing and emits nothing when every operation is declined' {
        Mock -ModuleName CrossCloudSync Confirm-CcsChange { $false }
        $ops = @(Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam)
        $ops.Count | Should -Be 0
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 0 -Exactly -ParameterFilter { $Arguments -contains '--yes' }
    }

    It 'applies just the operations piped in (OperationId from New-CcsSyncPlan, or opId from a document)' {
        $piped = @(
            [pscustomobject]@{ PlanFile = 'plan.json'; OperationId = 'del-1'; Kind = 'delete' }
            [pscustomobject]@{ Path = 'plan.json'; opId = 'cre-1' }
        )
        $ops = @($piped | Invoke-CcsSyncPlan -Profile fabrikam -Confirm:$false)
        @($ops.OperationId | Sort-Object) | Should -Be @('cre-1', 'del-1')
        # All the plan's planned operations were chosen: the plan is applied as a whole.
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Arguments -contains '--yes' -and $Arguments -notcontains '--operation'
        }
        $null = [pscustomobject]@{ PlanFile = 'plan.json'; OperationId = 'del-1' } | Invoke-CcsSyncPlan -Profile fabrikam -Confirm:$false
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Arguments -contains '--yes' -and ($Arguments -join ' ') -match '--operation del-1$|--operation del-1 ' -and ($Arguments -join ' ') -notmatch 'cre-1'
        }
    }

    It 'asks only about the chosen operations, and warns about chosen ones ccsync would not carry out' {
        Mock -ModuleName CrossCloudSync Confirm-CcsChange { $true }
        $ops = @(Invoke-CcsSyncPlan -Path plan.json -OperationId 'cre-1', 'upd-1', 'nope-9' -Profile fabrikam -WarningVariable warned -WarningAction SilentlyContinue)
        $ops.Count | Should -Be 1
        $ops[0].OperationId | Should -Be 'cre-1'
        Should -Invoke -ModuleName CrossCloudSync Confirm-CcsChange -Times 1 -Exactly
        "$warned" | Should -Match '2 chosen operation\(s\)'
        "$warned" | Should -Match 'upd-1'
    }

    It '-WhatIf with chosen operations shows only those and writes nothing' {
        $ops = @(Invoke-CcsSyncPlan -Path plan.json -OperationId 'cre-1' -Profile fabrikam -WhatIf)
        $ops.Count | Should -Be 0
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 0 -Exactly -ParameterFilter { $Arguments -contains '--yes' }
    }
}

Describe 'Enable-CcsCrossTenantSync asks per configuration step' {
    BeforeEach {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            $calls = @(
                New-SetupCall @{ tenant = 'target'; tenantId = 't2'; step = 'target.partner'; method = 'POST'; path = '/partners'; purpose = 'partner entry for tenant t1'; state = 'planned' }
                New-SetupCall @{ tenant = 'target'; tenantId = 't2'; step = 'target.inboundSync'; method = 'PUT'; path = '/partners/t1/identitySynchronization'; purpose = 'allow user sync from t1'; state = 'planned' }
                New-SetupCall @{ tenant = 'source'; tenantId = 't1'; step = 'source.partner'; method = 'POST'; path = '/partners'; purpose = 'partner entry for tenant t2'; state = 'planned' }
                New-SetupCall @{ tenant = 'source'; tenantId = 't1'; step = 'source.outboundRedemption'; method = 'PATCH'; path = '/partners/t2'; purpose = 'automatic redemption (outbound)'; state = 'planned' }
            )
            $steps = @(
                [pscustomobject]@{ key = 'target.partner'; tenant = 'target'; title = 'Partner entry for the source tenant'; needs = @(); pending = $true; portalOnly = $false; calls = 1 }
                [pscustomobject]@{ key = 'target.inboundSync'; tenant = 'target'; title = 'Allow user synchronization into this tenant'; needs = @('target.partner'); pending = $true; portalOnly = $false; calls = 1 }
                [pscustomobject]@{ key = 'target.inboundRedemption'; tenant = 'target'; title = 'Automatic redemption (inbound)'; needs = @('target.partner'); pending = $false; portalOnly = $false; calls = 0 }
                [pscustomobject]@{ key = 'source.partner'; tenant = 'source'; title = 'Partner entry for the target tenant'; needs = @(); pending = $true; portalOnly = $false; calls = 1 }
                [pscustomobject]@{ key = 'source.outboundRedemption'; tenant = 'source'; title = 'Automatic redemption (outbound)'; needs = @('source.partner'); pending = $true; portalOnly = $false; calls = 1 }
            )
            $selected = @(for ($i = 0; $i -lt $Arguments.Count - 1; $i++) { if ($Arguments[$i] -eq '--step') { $Arguments[$i + 1] } })
            $sent = @($calls | Where-Object { -not $selected.Count -or $_.step -in $selected } | ForEach-Object { $_.state = 'sent'; $_ })
            New-Outcome -Document ([pscustomobject]@{
                    source = [pscustomobject]@{ profile = 'contoso'; tenantId = 't1' }; target = [pscustomobject]@{ profile = 'fabrikam'; tenantId = 't2' }
                    calls = $calls; steps = $steps; sent = $sent; manualSteps = @() })
        }
    }

    It 'asks per step with calls to make, runs only the approved ones, and skips (with a warning) a step that needs a declined one' {
        Mock -ModuleName CrossCloudSync Confirm-CcsChange { $Action -notlike 'Partner entry for the source tenant*' }
        $out = @(Enable-CcsCrossTenantSync -Source contoso -Target fabrikam -Group G1 -WarningVariable warned -WarningAction SilentlyContinue)
        $out.Step | Should -Be @('source.partner', 'source.outboundRedemption')
        Should -Invoke -ModuleName CrossCloudSync Confirm-CcsChange -Times 3 -Exactly
        Should -Invoke -ModuleName CrossCloudSync Confirm-CcsChange -Times 1 -Exactly -ParameterFilter {
            $Target -eq "target tenant t2 (profile 'fabrikam')" -and $Action -eq 'Partner entry for the source tenant: partner entry for tenant t1'
        }
        Should -Invoke -ModuleName CrossCloudSync Confirm-CcsChange -Times 0 -Exactly -ParameterFilter { $Action -like 'Allow user synchronization*' }
        "$warned" | Should -Match "Step 'target.inboundSync'.*needs step 'target.partner', which was not approved"
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $line = $Arguments -join ' '
            $Arguments -contains '--yes' -and $line -match '--step source.partner --step source.outboundRedemption' -and $line -notmatch 'target\.'
        }
    }

    It 'runs every step, without --step, when all are approved' {
        Mock -ModuleName CrossCloudSync Confirm-CcsChange { $true }
        $out = @(Enable-CcsCrossTenantSync -Source contoso -Target fabrikam -Group G1)
        $out.Count | Should -Be 4
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Arguments -contains '--yes' -and $Arguments -notcontains '--step'
        }
    }

    It 'writes nothing and emits nothing when every step is declined' {
        Mock -ModuleName CrossCloudSync Confirm-CcsChange { $false }
        $out = @(Enable-CcsCrossTenantSync -Source contoso -Target fabrikam -Group G1 -WarningAction SilentlyContinue)
        $out.Count | Should -Be 0
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 0 -Exactly -ParameterFilter { $Arguments -contains '--yes' }
    }

    It '-Step narrows the question to the named steps (passed to ccsync as --step)' {
        Mock -ModuleName CrossCloudSync Confirm-CcsChange { $true }
        $null = Enable-CcsCrossTenantSync -Source contoso -Target fabrikam -Step source.partner
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Arguments -contains '--what-if' -and ($Arguments -join ' ') -match '--step source.partner'
        }
    }

    It 'leaves the deletion threshold to ccsync when -DeletionThreshold is not given' {
        $null = Enable-CcsCrossTenantSync -Source contoso -Target fabrikam -Group G1 -Confirm:$false
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter {
            $Arguments -contains '--yes' -and $Arguments -notcontains '--deletion-threshold'
        }
    }
}

Describe 'Errors become ErrorRecords with id, category and hint' {
    It 'maps a ccsync error' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine {
            New-Outcome -ExitCode 2 -ErrorInfo ([pscustomobject]@{ ErrorId = 'Ccsync.ConfigError'; Category = 'InvalidArgument'
                    Message = "No profile 'nobody' in the config file."; Hint = 'Add a [profiles.nobody] table.'; Exception = $null })
        }
        $err = $null
        try { Connect-CcsTenant -Profile nobody } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'Ccsync.ConfigError*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'nobody'
        $err.ErrorDetails.RecommendedAction | Should -Be 'Add a [profiles.nobody] table.'
    }

    It 'refuses to put a secret on the command line' {
        InModuleScope CrossCloudSync {
            { Invoke-CcsCli -Command 'login' -Arguments '--client-secret', 'x' } |
                Should -Throw -ErrorId 'Ccsync.SecretOnCommandLine*'
        }
    }
}

Describe 'Private helpers' {
    It 'ConvertTo-CcsCliArgument follows the naming rule and the map' {
        InModuleScope CrossCloudSync -Parameters @{ Plan = (Get-FullPath 'plan.json'); Results = (Get-FullPath 'r.xlsx') } {
            param($Plan, $Results)
            $line = ConvertTo-CcsCliArgument -CmdletName 'Invoke-CcsSyncPlan' -BoundParameters ([ordered]@{
                    Path = 'plan.json'; ProfileName = 'fabrikam'; RetryFailed = [switch]$true; Report = 'r.xlsx'; Concurrency = 2; WhatIf = [switch]$true
                    OperationId = [string[]]@('cre-1', 'del-1') })
            $line | Should -Be @($Plan, '--profile', 'fabrikam', '--retry-failed', '--results', $Results,
                '--concurrency', '2', '--operation', 'cre-1', '--operation', 'del-1')
        }
    }

    It 'ConvertTo-CcsCliArgument applies per-cmdlet renames: -JobId is --job on xts, -User the USERS argument' {
        InModuleScope CrossCloudSync -Parameters @{ Schema = (Get-FullPath 's.json') } {
            param($Schema)
            $line = ConvertTo-CcsCliArgument -CmdletName 'Invoke-CcsCrossTenantSyncProvisioning' -BoundParameters ([ordered]@{
                    Source = 'contoso'; JobId = 'job1'; User = [string[]]@('a@contoso.com', 'b@contoso.com'); Confirm = [switch]$false })
            $line | Should -Be @('a@contoso.com', 'b@contoso.com', '--source', 'contoso', '--job', 'job1')
            $plan = ConvertTo-CcsCliArgument -CmdletName 'New-CcsSyncPlan' -BoundParameters ([ordered]@{ Job = 'contoso'; JobId = 'job1'; SchemaFile = 's.json' })
            $plan | Should -Be @('--job', 'contoso', '--job-id', 'job1', '--schema', $Schema)
        }
    }

    It 'ConvertTo-CcsCliArgument turns path parameters into full paths against the current location, drives and ~ included' {
        $folder = Join-Path $TestDrive 'work'
        $null = New-Item -ItemType Directory -Path $folder
        $null = New-PSDrive -Name CcsPlans -PSProvider FileSystem -Root $folder -Scope Global
        Push-Location -Path $folder
        try {
            $expected = @{
                Plan    = Join-Path $folder 'plan.json'
                Journal = Join-Path (Join-Path $folder 'sub') 'j.sqlite'
                Report  = Join-Path $folder 'r.xlsx'
                Config  = Join-Path $HOME 'ccsync.toml'
            }
            InModuleScope CrossCloudSync -Parameters $expected {
                param($Plan, $Journal, $Report, $Config)
                $line = ConvertTo-CcsCliArgument -CmdletName 'Invoke-CcsSyncPlan' -BoundParameters ([ordered]@{
                        Path = 'plan.json'; ProfileName = 'fabrikam'; JournalPath = './sub/j.sqlite'; Report = 'CcsPlans:\r.xlsx'
                        ConfigPath = '~/ccsync.toml' })
                $line | Should -Be @($Plan, '--profile', 'fabrikam', '--journal', $Journal, '--results', $Report, '--config', $Config)
                # Not paths: a snapshot folder OR a profile name, and the profile, are passed as given.
                $plan = ConvertTo-CcsCliArgument -CmdletName 'New-CcsSyncPlan' -BoundParameters ([ordered]@{ Source = './snap'; Target = 'fabrikam' })
                $plan | Should -Be @('--source', './snap', '--target', 'fabrikam')
            }
        }
        finally {
            Pop-Location
            Remove-PSDrive -Name CcsPlans -Scope Global
        }
    }

    It 'refuses a relative path while the current location is not a folder, naming the parameter' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine { New-Outcome -Document ([pscustomobject]@{ operations = @() }) }
        Push-Location -Path 'Function:\'
        try {
            { Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam -Confirm:$false } |
                Should -Throw -ErrorId 'Ccsync.NotAFileSystemPath*' -ExpectedMessage "*-Path 'plan.json' is not a file system path*"
            Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 0 -Exactly
        }
        finally { Pop-Location }
    }

    It 'Invoke-CcsSyncPlan hands the engine the plan as a full path after Set-Location' {
        Mock -ModuleName CrossCloudSync Invoke-CcsEngine { New-Outcome -Document ([pscustomobject]@{ operations = @() }) }
        Push-Location -Path $TestDrive
        try {
            $null = Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam -Confirm:$false
            $plan = Join-Path $TestDrive 'plan.json'
            Should -Invoke -ModuleName CrossCloudSync Invoke-CcsEngine -Times 1 -Exactly -ParameterFilter { $Arguments -contains $plan }
        }
        finally { Pop-Location }
    }

    It 'ConvertFrom-CcsDotNet keeps .NET types and turns DBNull into $null' {
        InModuleScope CrossCloudSync {
            $table = [System.Data.DataTable]::new('users')
            $null = $table.Columns.Add('userPrincipalName', [string])
            $null = $table.Columns.Add('eligible', [bool])
            $null = $table.Columns.Add('createdDateTime', [datetime])
            $null = $table.Rows.Add('a@contoso.com', $true, [datetime]'2024-05-01T10:00:00Z')
            $null = $table.Rows.Add('b@contoso.com', [DBNull]::Value, [DBNull]::Value)
            $document = [System.Collections.Specialized.OrderedDictionary]::new()
            $document['users'] = $table
            $document['summary'] = [System.Collections.Specialized.OrderedDictionary]::new()
            $document['summary']['notEligible'] = [long]1
            $converted = ConvertFrom-CcsDotNet -InputObject $document
            $converted.users.Count | Should -Be 2
            $converted.users[0].eligible | Should -BeOfType [bool]
            $converted.users[0].createdDateTime | Should -BeOfType [datetime]
            $converted.users[1].eligible | Should -BeNullOrEmpty
            $converted.summary.notEligible | Should -Be 1
        }
    }

    It 'Write-CcsProgress is the one relay to Write-Progress' {
        Mock -ModuleName CrossCloudSync Write-Progress { $null }
        InModuleScope CrossCloudSync {
            Write-CcsProgress -InputObject @{ event = 'apply_progress'; completed = 40; total = 200; rate = 12.5 } -Activity 'ccsync apply'
        }
        Should -Invoke -ModuleName CrossCloudSync Write-Progress -Times 1 -Exactly -ParameterFilter { $PercentComplete -eq 20 -and $Activity -eq 'ccsync apply' }
    }

    It 'Initialize-CcsBridge honours CCSYNC_BRIDGE=cli and says why' {
        $previous = $env:CCSYNC_BRIDGE
        try {
            $env:CCSYNC_BRIDGE = 'cli'
            $bridge = Get-CcsBridge -Refresh
            $bridge.Mode | Should -Be 'Cli'
            $bridge.Reason | Should -Match 'CCSYNC_BRIDGE'
        }
        finally {
            $env:CCSYNC_BRIDGE = $previous
            $null = Get-CcsBridge -Refresh
        }
    }
}

Describe 'Against the real ccsync (both bridge modes)' -ForEach @('cli', 'auto') {
    BeforeAll {
        $script:HasCli = [bool]($env:CCSYNC_EXE -or $env:CCSYNC_PYTHON -or (Get-Command ccsync -CommandType Application -ErrorAction SilentlyContinue))
        $script:PreviousBridge = $env:CCSYNC_BRIDGE
        $env:CCSYNC_BRIDGE = $_
        if ($HasCli) { $null = Get-CcsBridge -Refresh }
    }
    AfterAll {
        $env:CCSYNC_BRIDGE = $PreviousBridge
    }

    It 'lists the clouds' {
        if (-not $HasCli) { Set-ItResult -Skipped -Because 'ccsync is not installed'; return }
        (Get-CcsCloud).Name | Should -Contain 'dod'
    }

    It 'turns an input error into a terminating error with the message and hint' {
        if (-not $HasCli) { Set-ItResult -Skipped -Because 'ccsync is not installed'; return }
        { Find-CcsTenantCloud -Tenant 'not a tenant' } | Should -Throw -ExpectedMessage '*neither a tenant ID*' -ErrorId 'Ccsync.InputError*'
    }
}
