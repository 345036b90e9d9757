"""The ``ccsync`` command line: thin click commands over the library (entry point ``toolkit.cli.main:main``).

The click command tree is the command registry: ``ccsync commands --output json`` lists every command with its
parameters, and the PowerShell module is checked against it.
"""
