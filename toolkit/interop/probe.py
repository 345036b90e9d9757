"""What the PowerShell module needs to load this Python in-process: ``python -m toolkit.interop.probe``.

Prints one JSON object: the interpreter, its shared library (``libpython3.X.so`` / ``python3X.dll`` /
``libpython3.X.dylib``, which ``Python.Runtime`` must be pointed at), ``PythonHome`` and ``PythonPath`` for the
embedded engine (so a venv's packages, ccsync among them, are found), pythonnet's ``Python.Runtime.dll``, and
``inProcess``: whether in-process loading can work, with ``reason`` when it cannot (the module then falls back to
the CLI and ``Get-CcsBridge`` says why).
"""

from __future__ import annotations

import importlib.util
import json
import os
import site
import sys
import sysconfig
from pathlib import Path
from typing import Any

__all__ = ["describe", "find_libpython", "find_runtime_dll", "main"]


def find_libpython() -> str | None:
    """The interpreter's shared library, or None for a statically linked Python (no in-process loading)."""
    candidates: list[Path] = []
    if os.name == "nt":
        version = f"python{sys.version_info.major}{sys.version_info.minor}.dll"
        candidates += [Path(sys.base_prefix) / version, Path(sys.executable).parent / version]
    else:
        libdir = sysconfig.get_config_var("LIBDIR") or ""
        for name in (sysconfig.get_config_var("LDLIBRARY"), sysconfig.get_config_var("INSTSONAME")):
            if name and not str(name).endswith(".a"):
                candidates += [Path(libdir) / str(name), Path(sys.base_prefix) / "lib" / str(name)]
        multiarch = sysconfig.get_config_var("MULTIARCH")
        if multiarch and sysconfig.get_config_var("INSTSONAME"):
            candidates.append(Path("/usr/lib") / str(multiarch) / str(sysconfig.get_config_var("INSTSONAME")))
    return next((str(p) for p in candidates if p.is_file()), None)


def find_runtime_dll() -> str | None:
    """pythonnet's ``Python.Runtime.dll`` in this environment, or None when pythonnet is not installed."""
    spec = importlib.util.find_spec("pythonnet")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        dll = Path(location) / "runtime" / "Python.Runtime.dll"
        if dll.is_file():
            return str(dll)
    return None


def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def describe() -> dict[str, Any]:
    """The facts above, as a dict (JSON-ready)."""
    from toolkit import __version__

    libpython = find_libpython()
    runtime_dll = find_runtime_dll()
    reason = None
    if runtime_dll is None:
        reason = "pythonnet is not installed in this Python environment (pip install 'ccsync[interop]')."
    elif libpython is None:
        reason = "this Python has no shared library (libpython) to load in-process (a statically linked build)."
    return {
        "python": sys.executable,
        "pythonVersion": ".".join(str(p) for p in sys.version_info[:3]),
        "libPython": libpython,
        "pythonHome": sys.base_prefix,
        # sys.path without this probe's own folder (python -m puts the current folder first)
        "pythonPath": [p for p in sys.path[1:] if p and Path(p).exists()],
        # site folders (a venv's site-packages): the host adds them with site.addsitedir so .pth files
        # (editable installs) work in the embedded engine too
        "siteDirs": [p for p in site.getsitepackages() if Path(p).is_dir()],
        "prefix": sys.prefix,
        "runtimeDll": runtime_dll,
        "pythonnetVersion": _version("pythonnet"),
        "ccsyncVersion": __version__,
        "inProcess": reason is None,
        "reason": reason,
    }


def main() -> None:
    print(json.dumps(describe(), indent=2))


if __name__ == "__main__":
    main()
