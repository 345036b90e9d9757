#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Run: Invoke-Pester ./ps/CrossCloudSync/Tests

BeforeDiscovery {
    $script:ModuleRoot = Split-Path -Parent $PSScriptRoot
    $script:PublicNames = (Get-ChildItem -Path (Join-Path $ModuleRoot 'Public') -Filter '*.ps1').BaseName
}

BeforeAll {
    $script:ModuleRoot = Split-Path -Parent $PSScriptRoot
    $script:ManifestPath = Join-Path $ModuleRoot 'CrossCloudSync.psd1'
    Import-Module $ManifestPath -Force
}

AfterAll {
    Remove-Module CrossCloudSync -ErrorAction SilentlyContinue
}

Describe 'Module manifest' {
    It 'is valid and targets PowerShell 7.2' {
        $manifest = Test-ModuleManifest -Path $ManifestPath
        $manifest.Version | Should -Be ([version]'0.1.0')
        $manifest.PowerShellVersion | Should -Be ([version]'7.2')
    }

    It 'exports exactly the functions in Public/' {
        $public = (Get-ChildItem -Path (Join-Path $ModuleRoot 'Public') -Filter '*.ps1').BaseName | Sort-Object
        $exported = (Get-Module CrossCloudSync).ExportedFunctions.Keys | Sort-Object
        $exported | Should -Be $public
        (Import-PowerShellDataFile $ManifestPath).FunctionsToExport | Sort-Object | Should -Be $public
    }

    It 'does not export the private CLI wrapper' {
        Get-Command -Module CrossCloudSync -Name Invoke-CcsCli -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Help of <_>' -ForEach $PublicNames {
    BeforeAll {
        $script:Help = Get-Help -Name $_ -Full
        $script:Command = Get-Command -Name $_
    }

    It 'has a synopsis, a description and an example' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        $Help.Synopsis | Should -Not -Match "^\s*$([regex]::Escape($_))"
        ($Help.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty
        @($Help.Examples.Example).Count | Should -BeGreaterThan 0
    }

    It 'describes every parameter' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters +
            [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($name in $Command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $parameterHelp = $Help.Parameters.Parameter | Where-Object Name -EQ $name
            ($parameterHelp.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$name needs a description"
        }
    }

    It 'declares [OutputType([pscustomobject])]' {
        $Command.OutputType.Type | Should -Contain ([pscustomobject])
    }
}

Describe 'Cmdlets call the ccsync CLI with the expected arguments' {
    It 'Get-CcsCloud runs "clouds" and emits one object per cloud' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            [pscustomobject]@{
                clouds = @(
                    [pscustomobject]@{ name = 'commercial'; loginUrl = 'https://login.microsoftonline.com'; graphUrl = 'https://graph.microsoft.com' }
                    [pscustomobject]@{ name = 'gcch'; loginUrl = 'https://login.microsoftonline.us'; graphUrl = 'https://graph.microsoft.us' }
                )
                pairs  = @([pscustomobject]@{ source = 'commercial'; target = 'gcch'; kind = 'cross-cloud'; note = 'preview' })
            }
        }
        $clouds = @(Get-CcsCloud)
        $clouds.Count | Should -Be 2
        $clouds[1].GraphUrl | Should -Be 'https://graph.microsoft.us'
        (@(Get-CcsCloud -Name gcch)).Name | Should -Be 'gcch'
        (@(Get-CcsCloud -Pair))[0].Kind | Should -Be 'cross-cloud'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsCli -Times 3 -Exactly -ParameterFilter {
            $Command -eq 'clouds' -and @($Arguments).Count -eq 0
        }
    }

    It 'Find-CcsTenantCloud runs "clouds detect" per piped tenant with its options' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            [pscustomobject]@{ tenant = $Arguments[0]; tenantId = '11111111-2222-3333-4444-555555555555'; cloud = 'gcch'; note = '' }
        }
        $result = @('fabrikam.us', 'contoso.com' | Find-CcsTenantCloud -LoginUrl 'https://127.0.0.1:8443')
        $result.Count | Should -Be 2
        $result[0].Cloud | Should -Be 'gcch'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsCli -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'clouds detect' -and
            ($Arguments -join ' ') -eq 'fabrikam.us --login-url https://127.0.0.1:8443 --timeout 15'
        }
    }

    It 'Connect-CcsTenant runs "login --profile" and never passes a secret' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            [pscustomobject]@{ profile = 'contoso'; cloud = 'commercial'; tenantId = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'
                appId = '00000000-0000-0000-0000-000000000001'; roles = @('User.Read.All'); scopes = @()
                expiresOn = '2026-01-01T00:00:00Z'; auth = 'secret' }
        }
        $login = Connect-CcsTenant -Profile contoso
        $login.Roles | Should -Be @('User.Read.All')
        $login.TenantId | Should -Be 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsCli -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'login' -and ($Arguments -join ' ') -eq '--profile contoso' -and
            -not ($Arguments -match 'secret|password')
        }
    }

    It 'Start-CcsDemo runs "demo" and emits one object per tenant' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            [pscustomobject]@{ tenants = @(
                    [pscustomobject]@{ profile = 'sim-contoso'; cloud = 'commercial'; tenant = 't1'
                        steps = [pscustomobject]@{ users = [pscustomobject]@{ count = 12 } }
                        graphCalls = [pscustomobject]@{ requests = 3 } }
                ) }
        }
        $demo = @(Start-CcsDemo -OutDir 'out')
        $demo.Count | Should -Be 1
        $demo[0].Users | Should -Be 12
        $demo[0].Status | Should -Be 'Succeeded'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsCli -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'demo' -and ($Arguments -join ' ') -eq '--out out'
        }
    }

    It 'Export-CcsTenant runs "export" with groups and the snapshot folder' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            [pscustomobject]@{ tenantId = 't1'; displayName = 'Contoso'; cloud = 'commercial'; exportedAt = 'x'
                counts = [pscustomobject]@{ users = 43; license_assignments = 66; skus = 10; group_members = 26 }
                graphCalls = [pscustomobject]@{ requests = 7 }; snapshot = 'snap' }
        }
        $export = Export-CcsTenant -Profile contoso -Group 'CCS-Sync-Scope', 'Pilot' -OutDir snap
        $export.Users | Should -Be 43
        $export.GraphCalls | Should -Be 7
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsCli -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'export' -and ($Arguments -join ' ') -eq '--profile contoso --group CCS-Sync-Scope --group Pilot --out snap'
        }
    }

    It 'Get-CcsLicenseEligibility emits every user even when ccsync exits 1 for unlicensed users' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            $doc = [pscustomobject]@{ users = @(
                    [pscustomobject]@{ userPrincipalName = 'a@contoso.com'; eligible = $true; status = 'eligible' },
                    [pscustomobject]@{ userPrincipalName = 'b@contoso.com'; eligible = $false; status = 'missing_governance' }
                ) }
            $record = [System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new('problems'), 'Ccsync.ProblemsFound', 'InvalidOperation', $doc)
            throw $record
        }
        $users = @(Get-CcsLicenseEligibility -Source ./snap -TargetCloud gcch)
        $users.Count | Should -Be 2
        ($users | Where-Object { -not $_.Eligible }).Status | Should -Be 'missing_governance'
    }

    It 'New-CcsSyncPlan passes the options ccsync expects and emits one object per operation' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            [pscustomobject]@{ planFile = 'plan.json'; operations = @(
                    [pscustomobject]@{ opId = 'cre-1'; kind = 'create'; held = $false; sourceUpn = 'a@contoso.com' }
                ) }
        }
        $ops = @(New-CcsSyncPlan -Source s -Target t -OutFile plan.json -OnDeprovision Disable)
        $ops.Count | Should -Be 1
        $ops[0].PlanFile | Should -Be 'plan.json'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsCli -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'plan' -and ($Arguments -join ' ') -match '--on-deprovision disable' -and
            ($Arguments -join ' ') -match '--create-as invite'
        }
    }

    It 'Invoke-CcsSyncPlan -WhatIf asks ccsync for a what-if run and writes nothing' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            [pscustomobject]@{ whatIf = $true; operations = @(
                    [pscustomobject]@{ opId = 'cre-1'; kind = 'create'; state = 'planned'; sourceUpn = 'a@contoso.com' }
                ) }
        }
        $ops = @(Invoke-CcsSyncPlan -Path plan.json -Profile fabrikam -WhatIf)
        $ops.Count | Should -Be 1
        $ops[0].State | Should -Be 'planned'
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsCli -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'apply' -and $Arguments -contains '--what-if' -and $Arguments -notcontains '--yes'
        }
    }

    It 'Invoke-CcsSyncPlan applies once per plan file, confirmed with -Confirm:$false' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            [pscustomobject]@{ operations = @([pscustomobject]@{ opId = 'upd-1'; kind = 'update'; state = 'done' }) }
        }
        $piped = @([pscustomobject]@{ PlanFile = 'plan.json' }, [pscustomobject]@{ PlanFile = 'plan.json' })
        $ops = @($piped | Invoke-CcsSyncPlan -Profile fabrikam -Confirm:$false)
        $ops.Count | Should -Be 1
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsCli -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'apply' -and $Arguments -contains '--yes' -and $Arguments[0] -eq 'plan.json'
        }
    }

    It 'Get-CcsProvisioningLog runs "logs fetch" with its options and emits one object per log kind' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            [pscustomobject]@{ tenantId = 't1'; archive = 'a.sqlite'; throttled = 0; kinds = @(
                    [pscustomobject]@{ kind = 'provisioning'; fetched = 5; new = 5; stored = 5; windows = 1 },
                    [pscustomobject]@{ kind = 'audit'; fetched = 2; new = 1; stored = 9; windows = 1 }) }
        }
        $fetched = @(Get-CcsProvisioningLog -Profile contoso -Since 7d -JobId job1 -Archive a.sqlite -Kind Provisioning)
        $fetched.Count | Should -Be 2
        $fetched[1].InArchive | Should -Be 9
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsCli -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'logs fetch' -and
            ($Arguments -join ' ') -eq '--profile contoso --since 7d --job job1 --archive a.sqlite --kind provisioning'
        }
    }

    It 'Export-CcsReport runs "report provisioning" or "report audit" by -Kind' {
        Mock -ModuleName CrossCloudSync Invoke-CcsCli {
            [pscustomobject]@{ kind = 'audit'; report = 'audit.xlsx'
                summary = [pscustomobject]@{ sourceName = 'x'; events = 3; failures = 0; skippedRecords = 1; duplicates = 0 } }
        }
        $report = Export-CcsReport -Kind Audit -Archive a.sqlite -OutFile audit.xlsx
        $report.Events | Should -Be 3
        $report.SkippedRecords | Should -Be 1
        Should -Invoke -ModuleName CrossCloudSync Invoke-CcsCli -Times 1 -Exactly -ParameterFilter {
            $Command -eq 'report audit' -and ($Arguments -join ' ') -eq '--out audit.xlsx --archive a.sqlite'
        }
    }
}

Describe 'Invoke-CcsCli against the real ccsync' {
    BeforeAll {
        $script:HasCli = [bool]($env:CCSYNC_EXE -or (Get-Command ccsync -CommandType Application -ErrorAction SilentlyContinue))
    }

    It 'parses the JSON document' {
        if (-not $HasCli) { Set-ItResult -Skipped -Because 'ccsync is not installed' ; return }
        InModuleScope CrossCloudSync {
            $document = Invoke-CcsCli -Command 'clouds'
            @($document.clouds).name | Should -Contain 'dod'
        }
    }

    It 'turns an input error into a terminating error with the message' {
        if (-not $HasCli) { Set-ItResult -Skipped -Because 'ccsync is not installed' ; return }
        InModuleScope CrossCloudSync {
            { Invoke-CcsCli -Command 'clouds detect' -Arguments 'not a tenant' } |
                Should -Throw -ExpectedMessage "*neither a tenant ID*" -ErrorId 'Ccsync.InputError*'
        }
    }

    It 'refuses to put a secret on the command line' {
        InModuleScope CrossCloudSync {
            { Invoke-CcsCli -Command 'login' -Arguments '--client-secret', 'x' } |
                Should -Throw -ErrorId 'Ccsync.SecretOnCommandLine*'
        }
    }
}
