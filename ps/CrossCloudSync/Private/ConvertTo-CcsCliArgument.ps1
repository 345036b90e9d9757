function ConvertTo-CcsCliArgument {
    <#
    .SYNOPSIS
    Builds a ccsync command line from a cmdlet's bound parameters, by the module's one naming rule.

    .DESCRIPTION
    Each bound parameter becomes its ccsync option: the kebab-case of its name (TargetCloud -> --target-cloud)
    unless CrossCloudSync.ParameterMap.psd1 names another option or a positional argument for it. Switches
    become flags when set; arrays repeat the option; values of a parameter with a ValidateSet are lower-cased
    (ccsync's choices are lower-case); numbers and dates use the invariant culture. Parameters the map lists
    under Paths become full file system paths against PowerShell's current location
    ($PSCmdlet.GetUnresolvedProviderPathFromPSPath: relative paths, ~ and PowerShell drives), so ccsync, in
    process or not, reads and writes the files the admin means. Common parameters
    (-Verbose, -WhatIf ...) and PowerShell-only parameters are skipped. Positional arguments come first.
    Defaults are not sent: ccsync's own defaults apply, so each default lives in one place.

    .PARAMETER CmdletName
    The calling cmdlet (its entry in the parameter map and its parameter metadata).

    .PARAMETER BoundParameters
    The calling cmdlet's $PSBoundParameters.

    .EXAMPLE
    ConvertTo-CcsCliArgument -CmdletName 'Get-CcsLicenseEligibility' -BoundParameters @{ Source = './snap'; TargetCloud = 'gcch' }

    --source ./snap --target-cloud gcch

    .EXAMPLE
    ConvertTo-CcsCliArgument -CmdletName 'New-CcsSyncPlan' -BoundParameters @{ OutFile = 'plan.json' }

    --out C:\Users\admin\plan.json (in C:\Users\admin)
    #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory)]
        [string] $CmdletName,

        [Parameter(Mandatory)]
        [AllowEmptyCollection()]
        [System.Collections.IDictionary] $BoundParameters
    )

    $map = $script:CcsParameterMap
    $skip = [System.Management.Automation.PSCmdlet]::CommonParameters +
        [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    if ($map.PowerShellOnly.ContainsKey($CmdletName)) { $skip += $map.PowerShellOnly[$CmdletName] }
    $renamed = @{}
    foreach ($scope in @('*', $CmdletName)) {
        if ($map.Renamed.ContainsKey($scope)) {
            foreach ($entry in $map.Renamed[$scope].GetEnumerator()) { $renamed[$entry.Key] = $entry.Value }
        }
    }
    $paths = @($map.Paths)
    $command = Get-Command -Name $CmdletName -ErrorAction SilentlyContinue
    $positional = [System.Collections.Generic.List[string]]::new()
    $options = [System.Collections.Generic.List[string]]::new()
    foreach ($name in $BoundParameters.Keys) {
        if ($skip -contains $name) { continue }
        $value = $BoundParameters[$name]
        $option = if ($renamed.ContainsKey($name)) { $renamed[$name] }
        else { '--' + ($name -creplace '(?<=[a-z0-9])([A-Z])', '-$1').ToLowerInvariant() }
        $lower = $false
        if ($command -and $command.Parameters.ContainsKey($name)) {
            $lower = [bool]($command.Parameters[$name].Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] })
        }
        if ($value -is [System.Management.Automation.SwitchParameter] -or $value -is [bool]) {
            if ([bool]$value) { $options.Add($option) }
            continue
        }
        foreach ($item in @($value)) {
            if ($null -eq $item) { continue }
            $text = if ($item -is [datetime]) { $item.ToUniversalTime().ToString('o', [cultureinfo]::InvariantCulture) }
            else { [System.Convert]::ToString($item, [cultureinfo]::InvariantCulture) }
            if ($lower) { $text = $text.ToLowerInvariant() }
            if ($paths -contains $name -and $text) {
                # $PSCmdlet.GetUnresolvedProviderPathFromPSPath, with the provider it resolved through: ccsync
                # reads and writes files only (a relative path while the location is HKLM:\ is refused).
                $provider = $null
                $drive = $null
                try {
                    $resolved = $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($text, [ref]$provider, [ref]$drive)
                    if ($provider.Name -ne 'FileSystem') { throw "it resolves through the $($provider.Name) provider" }
                    $text = $resolved
                }
                catch {
                    $message = "-$name '$text' is not a file system path: $($_.Exception.Message)"
                    $PSCmdlet.ThrowTerminatingError((New-CcsErrorRecord -Message $message -ErrorId 'Ccsync.NotAFileSystemPath' `
                                -Category InvalidArgument -TargetObject $text -Exception ([System.ArgumentException]::new($message)) `
                                -Hint 'Give a full file system path, or Set-Location to a folder first.'))
                }
            }
            if ($option.StartsWith('-')) { $options.Add($option); $options.Add($text) }
            else { $positional.Add($text) }
        }
    }
    [string[]](@($positional) + @($options))
}
