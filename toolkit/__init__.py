"""ccsync: Microsoft Entra cross-cloud synchronization toolkit.

Import what you need from the submodules (``toolkit.clouds``, ``toolkit.graph``, ``toolkit.export`` ...);
this package imports nothing heavy at start-up, because every PowerShell cmdlet may start Python.
"""

__version__ = "0.1.0"
