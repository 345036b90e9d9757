function Initialize-CcsBridge {
    <#
    .SYNOPSIS
    Decides once per session how the module reaches ccsync: in-process through pythonnet, or the ccsync CLI.

    .DESCRIPTION
    Finds the Python environment that has ccsync (Find-CcsPython), asks it what loading it in-process needs
    ('python -m toolkit.interop.probe': its libpython, PythonHome, PythonPath, site folders and pythonnet's
    Python.Runtime.dll), loads that Python.Runtime.dll with Add-Type, points it at the libpython, initialises
    the engine with that environment and releases the GIL for later calls. Any failure (no pythonnet, no shared
    libpython, a runtime mismatch, another Python already loaded in this process) selects the CLI mode instead,
    with the reason. $env:CCSYNC_BRIDGE = 'cli' forces the CLI; 'inprocess' makes a failure to load an error.
    The result is kept for the session; Get-CcsBridge shows it. Says once, on the verbose stream, which mode
    is in use.

    .PARAMETER Force
    Decide again (after changing $env:CCSYNC_PYTHON, for example). An engine already initialised in this
    process stays loaded: .NET cannot unload it.

    .EXAMPLE
    Initialize-CcsBridge -Verbose

    VERBOSE: CrossCloudSync: in-process bridge (Python 3.11.7 at /home/admin/ccsync/.venv/bin/python)
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [switch] $Force
    )

    if ($script:CcsBridge -and -not $Force) { return $script:CcsBridge }

    $requested = if ($env:CCSYNC_BRIDGE) { $env:CCSYNC_BRIDGE.ToLowerInvariant() } else { 'auto' }
    $state = [PSCustomObject]@{
        PSTypeName       = 'CrossCloudSync.Bridge'
        Mode             = 'Cli'
        Reason           = $null
        Python           = $null
        PythonSource     = $null
        PythonVersion    = $null
        LibPython        = $null
        RuntimeDll       = $null
        PythonnetVersion = $null
        CcsyncVersion    = $null
        Requested        = $requested
    }
    $python = Find-CcsPython
    if ($python) { $state.Python = $python.Path; $state.PythonSource = $python.Source }

    if ($requested -eq 'cli') {
        $state.Reason = '$env:CCSYNC_BRIDGE is cli'
    }
    elseif (-not $python) {
        $state.Reason = 'no Python found ($env:CCSYNC_PYTHON, the venv of $env:CCSYNC_EXE, python on PATH)'
    }
    else {
        $probe = $null
        try {
            $text = & $python.Path -m toolkit.interop.probe 2>$null
            if ($LASTEXITCODE -eq 0 -and $text) { $probe = ($text -join "`n") | ConvertFrom-Json }
        }
        catch { $probe = $null }
        if (-not $probe) {
            $state.Reason = "ccsync is not importable by $($python.Path) ('python -m toolkit.interop.probe' failed)"
        }
        else {
            $state.PythonVersion = $probe.pythonVersion
            $state.LibPython = $probe.libPython
            $state.RuntimeDll = $probe.runtimeDll
            $state.PythonnetVersion = $probe.pythonnetVersion
            $state.CcsyncVersion = $probe.ccsyncVersion
            if (-not $probe.inProcess) {
                $state.Reason = $probe.reason
            }
            else {
                try {
                    if (-not ('Python.Runtime.PythonEngine' -as [type])) {
                        Add-Type -Path $probe.runtimeDll
                    }
                    if (-not [Python.Runtime.PythonEngine]::IsInitialized) {
                        [Python.Runtime.Runtime]::PythonDLL = $probe.libPython
                        [Python.Runtime.PythonEngine]::PythonHome = $probe.pythonHome
                        [Python.Runtime.PythonEngine]::PythonPath = (@($probe.pythonPath) -join [System.IO.Path]::PathSeparator)
                        [Python.Runtime.PythonEngine]::Initialize()
                        # Release the GIL: every call takes it with Py.GIL() (Invoke-CcsEngine).
                        $script:CcsThreadState = [Python.Runtime.PythonEngine]::BeginAllowThreads()
                    }
                    $gil = [Python.Runtime.Py]::GIL()
                    try {
                        # A venv's .pth files (editable installs) are read by site.addsitedir, not by PythonPath.
                        $site = [Python.Runtime.Py]::Import('site')
                        foreach ($dir in @($probe.siteDirs)) {
                            $null = $site.InvokeMethod('addsitedir', [Python.Runtime.PyObject[]]@([Python.Runtime.PyString]::new([string]$dir)))
                        }
                        $null = [Python.Runtime.Py]::Import('toolkit.interop.entry')
                    }
                    finally {
                        $gil.Dispose()
                    }
                    $state.Mode = 'InProcess'
                    $state.Reason = "Python $($probe.pythonVersion) at $($python.Path) ($($python.Source))"
                }
                catch {
                    $inner = $_.Exception
                    while ($inner.InnerException) { $inner = $inner.InnerException }
                    $state.Reason = "in-process loading failed: $($inner.Message)"
                }
            }
        }
    }
    if ($requested -eq 'inprocess' -and $state.Mode -ne 'InProcess') {
        $record = New-CcsErrorRecord -Message "The in-process bridge was requested (`$env:CCSYNC_BRIDGE) but cannot load: $($state.Reason)" `
            -ErrorId 'Ccsync.BridgeUnavailable' -Category 'ResourceUnavailable' -TargetObject $state `
            -Hint "Install pythonnet in ccsync's Python environment (pip install 'ccsync[interop]'), or unset `$env:CCSYNC_BRIDGE."
        $PSCmdlet.ThrowTerminatingError($record)
    }
    $script:CcsBridge = $state
    Write-Verbose -Message "CrossCloudSync: $(if ($state.Mode -eq 'InProcess') { 'in-process bridge' } else { 'ccsync CLI' }) ($($state.Reason))"
    $state
}
