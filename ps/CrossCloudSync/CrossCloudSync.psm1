# Loader: dot-source one function per file. Public/ file names are the exported functions (the manifest's
# FunctionsToExport lists them explicitly; a test keeps the two equal).
Set-StrictMode -Version Latest

foreach ($folder in @('Private', 'Public')) {
    $path = Join-Path -Path $PSScriptRoot -ChildPath $folder
    foreach ($file in (Get-ChildItem -Path $path -Filter '*.ps1' -File -ErrorAction SilentlyContinue)) {
        . $file.FullName
    }
}

# How cmdlet parameters map to ccsync options (read once; ConvertTo-CcsCliArgument uses it).
$script:CcsParameterMap = Import-PowerShellDataFile -Path (Join-Path $PSScriptRoot 'CrossCloudSync.ParameterMap.psd1')

# ErrorRecord category per ccsync error class in CLI mode; the in-process bridge gets the same from
# toolkit/interop/errors.py, and tests/test_ps_module.py keeps the two tables equal.
$script:CcsErrorCategories = @{
    GraphAuthorizationError = 'PermissionDenied'
    GraphNotFound           = 'ObjectNotFound'
    GraphConflict           = 'ResourceExists'
    GraphThrottled          = 'LimitsExceeded'
    GraphServerError        = 'ResourceUnavailable'
    GraphBadRequest         = 'InvalidOperation'
    GraphError              = 'InvalidOperation'
    TransportError          = 'ConnectionError'
    BusyError               = 'ResourceBusy'
    WriteRefused            = 'SecurityError'
    AuthError               = 'AuthenticationError'
    CredentialError         = 'AuthenticationError'
    InputError              = 'InvalidArgument'
    ConfigError             = 'InvalidArgument'
    CloudError              = 'InvalidArgument'
    MissingPermissionError  = 'InvalidArgument'
    ConfigurationConflict   = 'InvalidArgument'
    SyncSetupIncomplete     = 'InvalidArgument'
    CcsyncError             = 'InvalidArgument'
    UsageError              = 'InvalidArgument'
    InternalError           = 'NotSpecified'
}

# The bridge is chosen on first use (Initialize-CcsBridge), not at import: importing stays fast.
$script:CcsBridge = $null

Export-ModuleMember -Function (Get-ChildItem -Path (Join-Path $PSScriptRoot 'Public') -Filter '*.ps1' -File).BaseName
