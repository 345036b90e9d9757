"""The PowerShell bridge: ccsync in-process for the ``CrossCloudSync`` module, through pythonnet.

The module (``ps/CrossCloudSync/Private/Initialize-CcsBridge.ps1``) loads pythonnet's ``Python.Runtime.dll``
once per session from the Python environment that has ccsync, initialises the engine with that environment
(``probe``), and calls ``entry.invoke`` under the GIL for every cmdlet. Parts:

* ``run``: run any registered ccsync command in this process and keep its result objects (pure Python);
* ``convert``: Python -> .NET objects (DateTime, Boolean, Int64, OrderedDictionary, DataTable with typed
  columns) and .NET request values -> Python;
* ``errors``: ccsync errors -> .NET exceptions carrying ErrorId, Category, Hint;
* ``entry``: the entry points the module calls (``invoke``, ``probe``);
* ``probe``: ``python -m toolkit.interop.probe``, the facts the module needs to load this Python;

Only ``convert``, ``errors`` and ``entry`` need .NET (``import clr``); they import it lazily.
"""

from __future__ import annotations

__all__ = ["run", "convert", "errors", "entry", "probe"]
