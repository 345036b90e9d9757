# How cmdlets map onto ccsync commands: the one place that names every exception to the naming rule.
#
# Rule: a cmdlet parameter is the PowerShell PascalCase of its ccsync option (--target-cloud -> TargetCloud,
# --login-url -> LoginUrl) or of a positional argument's name (TENANT -> Tenant). The module builds each
# command line from the cmdlet's bound parameters with this rule (Private/ConvertTo-CcsCliArgument.ps1), and
# tests/test_ps_parity.py checks both directions against 'ccsync commands --output json'.
@{
    # Parameters named otherwise than the rule: cmdlet (or '*' for every cmdlet) -> parameter -> option, or
    # the name of a positional argument as the registry lists it (no leading dashes). Positional arguments are
    # always listed here: the rule only yields options.
    Renamed        = @{
        '*'                  = @{
            ProfileName = '--profile'    # -Profile is an alias: $PROFILE is an automatic variable
            ConfigPath  = '--config'     # *Path: PowerShell's convention for a file system path
            CsvPath     = '--csv'
            ScopeFile   = '--scope'      # *File: the option takes a file, not a scope
            MappingFile = '--mapping'
        }
        'Find-CcsTenantCloud' = @{ Tenant = 'tenant'; TimeoutSec = '--timeout' }  # TENANT argument; -TimeoutSec as Invoke-RestMethod
        'Export-CcsTenant'    = @{ OutDir = '--out' }
        'Start-CcsDemo'       = @{ OutDir = '--out' }
        'New-CcsSyncPlan'     = @{ OutFile = '--out'; SchemaFile = '--schema' }
        # -OperationId: one opId per --operation (plan operations piped in carry OperationId or OpId).
        'Invoke-CcsSyncPlan'  = @{ Path = 'plan_path'; Report = '--results'; JournalPath = '--journal'; TimeoutSec = '--timeout'; OperationId = '--operation' }
        # xts and logs: --job takes a job's id; -JobId says so (New-CcsSyncPlan's -Job is a profile, -JobId an id).
        'Get-CcsCrossTenantSyncStatus'          = @{ JobId = '--job' }
        'Start-CcsCrossTenantSync'              = @{ JobId = '--job' }
        'Suspend-CcsCrossTenantSync'            = @{ JobId = '--job' }
        'Restart-CcsCrossTenantSync'            = @{ JobId = '--job' }
        'Invoke-CcsCrossTenantSyncProvisioning' = @{ JobId = '--job'; User = 'users' }   # USERS argument
        'Get-CcsProvisioningLog'                = @{ JobId = '--job' }
        'Export-CcsReport'                      = @{ Path = 'files'; OutFile = '--out' } # FILES argument
        'Test-CcsMigrationCsv'                  = @{ Path = 'csv_path' }          # CSV_PATH argument; -Path for Get-ChildItem | ...
        'New-CcsMigrationPlan'                  = @{ Path = 'csv_path'; OutFile = '--out' }
    }

    # Parameters that name a file or folder (their ccsync option or argument is a path in the registry;
    # tests/test_ps_parity.py checks the list both ways). The module turns each into a full file system path
    # against PowerShell's current location (relative paths, ~, PowerShell drives) before it crosses the bridge:
    # an in-process Python does not know PowerShell's location or drives.
    Paths          = @('Archive', 'CaBundle', 'Catalog', 'ConfigPath', 'CsvPath', 'JournalPath', 'MappingFile', 'OutDir',
        'OutFile', 'Path', 'ProvisioningLog', 'Report', 'SchemaFile', 'ScopeFile', 'SeedDir')

    # Parameters that exist only in PowerShell (they shape or filter output; no ccsync option behind them).
    PowerShellOnly = @{
        'Get-CcsCloud'     = @('Name', 'Pair')
        'Export-CcsReport' = @('Kind')   # chooses the command: 'report provisioning' or 'report audit'
    }

    # Options the module sets itself, per command ('*': every command), so no parameter carries them.
    ModuleOptions  = @{
        '*'     = @('--output', '--verbose', '-v', '-o')   # always JSON; messages go to the verbose stream
        'apply' = @('--what-if', '--yes', '-y', '--progress')  # from -WhatIf/-Confirm (ShouldProcess); progress relayed
        'plan'  = @('--show-default-mapping')                   # Get-CcsDefaultMapping
        # From -WhatIf/-Confirm (ShouldProcess): the module sends --what-if, or --yes once PowerShell has asked.
        'xts enable'  = @('--what-if', '--yes', '-y')
        'xts disable' = @('--what-if', '--yes', '-y')
        'xts restart' = @('--what-if', '--yes', '-y')
        'xts pause'   = @('--what-if')
        'xts start'   = @('--what-if')
    }

    # Common options (--config) need a parameter only on cmdlets that read profiles; every other option of a
    # wrapped command needs one.
    CommonOptions  = @('--config', '--output', '--verbose')

    # Commands without a cmdlet, and why.
    NoCmdlet       = @{
        'commands'  = 'the registry itself: tooling and these tests read it; admins do not need it as objects'
        'sim serve' = 'a long-running server for a terminal (Ctrl-C to stop), not a pipeline command; Start-CcsDemo runs the simulator in-process'
        'sim portal tick-cross-cloud-sync' = "a simulated admin's portal click, for the simulator only (no Graph call exists for it)"
        'sim portal create-configuration'  = "a simulated admin's portal click, for the simulator only (no Graph call exists for it)"
        'sim run-cycle'                    = "advances the simulator's sync clock; for the simulator only"
    }

    # Cmdlets of the module itself, with no ccsync command behind them.
    ModuleOnly     = @('Get-CcsBridge')

    # Commands that change a tenant, with the ConfirmImpact their cmdlets declare (SupportsShouldProcess).
    TenantWriters  = @{
        'apply'         = 'High'
        'xts enable'    = 'High'
        'xts disable'   = 'High'
        'xts provision' = 'High'
        'xts pause'     = 'High'
        'xts start'     = 'High'
        'xts restart'   = 'High'
    }
}
