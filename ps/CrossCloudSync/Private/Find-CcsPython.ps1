function Find-CcsPython {
    <#
    .SYNOPSIS
    Finds the Python interpreter of the environment that has ccsync installed.

    .DESCRIPTION
    Looks, in this order, at $env:CCSYNC_PYTHON (a python executable), the virtual environment of
    $env:CCSYNC_EXE (the python next to that ccsync), the environment of 'ccsync' on PATH, then 'python3' and
    'python' on PATH. Returns an object with Path and Source (which of these found it), or nothing.

    .EXAMPLE
    Find-CcsPython

    Path                              Source
    ----                              ------
    /home/admin/ccsync/.venv/bin/python CCSYNC_EXE
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param()

    $names = if ($IsWindows) { @('python.exe') } else { @('python', 'python3') }
    if ($env:CCSYNC_PYTHON) {
        return [PSCustomObject]@{ Path = $env:CCSYNC_PYTHON; Source = 'CCSYNC_PYTHON' }
    }
    $ccsync = @()
    if ($env:CCSYNC_EXE) { $ccsync += [PSCustomObject]@{ Path = $env:CCSYNC_EXE; Source = 'CCSYNC_EXE' } }
    $onPath = Get-Command -Name 'ccsync' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($onPath) { $ccsync += [PSCustomObject]@{ Path = $onPath.Source; Source = 'ccsync on PATH' } }
    foreach ($candidate in $ccsync) {
        # A venv keeps python next to its console scripts (bin/ or Scripts\).
        $folder = Split-Path -Parent -Path $candidate.Path
        foreach ($name in $names) {
            $python = Join-Path -Path $folder -ChildPath $name
            if (Test-Path -LiteralPath $python -PathType Leaf) {
                return [PSCustomObject]@{ Path = $python; Source = $candidate.Source }
            }
        }
    }
    foreach ($name in @('python3', 'python')) {
        $found = Get-Command -Name $name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($found) { return [PSCustomObject]@{ Path = $found.Source; Source = 'PATH' } }
    }
}
