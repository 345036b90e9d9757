function Get-CcsBridge {
    <#
    .SYNOPSIS
    Shows how this session reaches ccsync: in-process through pythonnet, or the ccsync command line, and why.

    .DESCRIPTION
    The module loads pythonnet's Python.Runtime.dll once per session from the Python environment that has ccsync
    ($env:CCSYNC_PYTHON, else the virtual environment of $env:CCSYNC_EXE or of ccsync on PATH, else python on
    PATH) and runs ccsync's engine in this process: cmdlets then receive .NET objects (DateTime, Boolean, typed
    tables) with no process start per call. Where that is not possible (pythonnet not installed in that
    environment, a Python without a shared library, a runtime mismatch) every cmdlet runs 'ccsync ...
    --output json' instead, with the same results. This tells which mode is in use, the reason, and the
    Python, pythonnet and ccsync versions. $env:CCSYNC_BRIDGE = 'cli' or 'inprocess' forces a mode.

    .PARAMETER Refresh
    Decide again, e.g. after setting $env:CCSYNC_PYTHON. An engine already loaded in this process stays loaded.

    .EXAMPLE
    Get-CcsBridge

    Mode      Python                               PythonVersion Reason
    ----      ------                               ------------- ------
    InProcess /home/admin/ccsync/.venv/bin/python  3.11.7        Python 3.11.7 at ... (CCSYNC_EXE)

    .EXAMPLE
    $env:CCSYNC_BRIDGE = 'cli'; Get-CcsBridge -Refresh

    Uses the ccsync command line from now on in this session.

    .LINK
    about_CrossCloudSync

    .LINK
    Invoke-CcsSyncPlan
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [switch] $Refresh
    )

    Initialize-CcsBridge -Force:$Refresh
}
