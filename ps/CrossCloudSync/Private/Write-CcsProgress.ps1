function Write-CcsProgress {
    <#
    .SYNOPSIS
    Relays one ccsync progress event to Write-Progress (the module's only call to Write-Progress).

    .DESCRIPTION
    ccsync reports progress as events ('--progress events': one JSON object per line on stderr in CLI mode, the
    same objects through the bridge's callback in-process): apply_phase (phase, total), apply_progress
    (completed, total, rate), apply_stopping, and any event with completed/total/message. This turns each into
    a Write-Progress record under one activity per command; -Completed closes it.

    .PARAMETER InputObject
    The event: an object or dictionary with 'event' and optional phase, completed, total, rate, message.

    .PARAMETER Activity
    The activity line, e.g. 'ccsync apply'.

    .PARAMETER Completed
    Close the progress bar of this activity.

    .EXAMPLE
    Write-CcsProgress -InputObject @{ event = 'apply_progress'; completed = 40; total = 200; rate = 12.5 } -Activity 'ccsync apply'
    #>
    [CmdletBinding()]
    [OutputType([void])]
    param(
        [AllowNull()]
        [object] $InputObject,

        [Parameter(Mandatory)]
        [string] $Activity,

        [switch] $Completed
    )

    if ($Completed) {
        Write-Progress -Id 1 -Activity $Activity -Completed
        return
    }
    $e = if ($InputObject -is [System.Collections.IDictionary]) { [PSCustomObject]$InputObject } else { $InputObject }
    if ($null -eq $e) { return }
    $names = $e.PSObject.Properties.Name
    $value = { param($name) if ($names -contains $name) { $e.$name } else { $null } }
    $status = switch ([string](& $value 'event')) {
        'apply_phase' { "$(& $value 'phase')" }
        'apply_stopping' { 'stopping after the requests in flight' }
        default {
            $parts = @()
            if ($null -ne (& $value 'completed')) { $parts += "$(& $value 'completed') of $(& $value 'total')" }
            if ($null -ne (& $value 'rate')) { $parts += "$(& $value 'rate') per second" }
            if ($null -ne (& $value 'message')) { $parts += "$(& $value 'message')" }
            if ($parts) { $parts -join ', ' } else { [string](& $value 'event') }
        }
    }
    $total = & $value 'total'
    $done = & $value 'completed'
    $percent = if ($total -and $null -ne $done) { [math]::Min(100, [int](100 * [double]$done / [double]$total)) } else { -1 }
    Write-Progress -Id 1 -Activity $Activity -Status $status -PercentComplete $percent
}
