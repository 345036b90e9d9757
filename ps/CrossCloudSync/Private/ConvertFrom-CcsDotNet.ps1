function ConvertFrom-CcsDotNet {
    <#
    .SYNOPSIS
    Turns what the in-process bridge returns (.NET objects) into the PowerShell objects cmdlets read.

    .DESCRIPTION
    The bridge (toolkit.interop.convert) returns OrderedDictionary for JSON objects, DataTable for lists of
    rows (typed columns: DateTime, Boolean, Int64, String), Object[] for other lists, and DateTime, Boolean,
    Int64, Double, String or null for values. This gives [PSCustomObject]s with one property per key or column,
    keeping the values' .NET types (a DateTime stays a DateTime; DBNull becomes $null), so cmdlets read the
    same property names in both bridge modes.

    .PARAMETER InputObject
    The value returned by the bridge.

    .EXAMPLE
    ConvertFrom-CcsDotNet -InputObject $answer['Document']
    #>
    [CmdletBinding()]
    [OutputType([object])]
    param(
        [Parameter(Position = 0)]
        [AllowNull()]
        [object] $InputObject
    )

    if ($null -eq $InputObject -or $InputObject -is [System.DBNull]) { return $null }
    if ($InputObject -is [string] -or $InputObject -is [System.ValueType]) { return $InputObject }
    if ($InputObject -is [System.Data.DataTable]) {
        $columns = @($InputObject.Columns)
        $nested = @($columns | Where-Object { $_.DataType -eq [object] } | ForEach-Object ColumnName)
        $rows = foreach ($row in $InputObject.Rows) {
            $properties = [ordered]@{}
            foreach ($column in $columns) {
                $cell = $row[$column]
                $properties[$column.ColumnName] = if ($cell -is [System.DBNull]) { $null }
                elseif ($nested -contains $column.ColumnName) { ConvertFrom-CcsDotNet -InputObject $cell }
                else { $cell }
            }
            [PSCustomObject]$properties
        }
        return , @($rows)
    }
    if ($InputObject -is [System.Collections.IDictionary]) {
        $properties = [ordered]@{}
        foreach ($key in $InputObject.Keys) {
            $properties[[string]$key] = ConvertFrom-CcsDotNet -InputObject $InputObject[$key]
        }
        return [PSCustomObject]$properties
    }
    if ($InputObject -is [System.Collections.IEnumerable]) {
        return , @(foreach ($item in $InputObject) { ConvertFrom-CcsDotNet -InputObject $item })
    }
    $InputObject
}
