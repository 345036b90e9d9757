"""The entry points the PowerShell module calls in-process (``Python.Runtime``: ``Py.Import`` +
``InvokeMethod``, under the GIL). Each takes and returns .NET objects; ccsync errors are raised as .NET
exceptions (``toolkit.interop.errors``) so they reach the host as themselves.

``invoke(request)``: run any registered command. ``request`` is a dictionary:

* ``Command`` (string): the command path, as in ``ccsync commands`` (``'clouds detect'``);
* ``Arguments`` (string[]): its CLI arguments, exactly as for the ``ccsync`` executable;
* ``WorkingDirectory`` (string, optional): the host's current folder (relative paths resolve against it);
* ``Environment`` (dictionary, optional): the host's current environment variables;
* ``OnOutput`` (``Action[string, object]``, optional): called on the host's thread for each progress event
  (``'progress'``, a dictionary) and message line (``'message'``, a string) as they happen.

It returns an ``OrderedDictionary``: ``Document`` (the command's result as .NET objects), ``ExitCode`` (0, or 1
when the work found problems and the document says which) and ``Messages`` (``string[]``).
``probe()`` returns what ``python -m toolkit.interop.probe`` prints, as a dictionary.
"""

from __future__ import annotations

from typing import Any

from .convert import from_dotnet, to_dotnet
from .errors import to_dotnet_exception
from .run import run_command

__all__ = ["invoke", "probe"]

_ERROR_LINE_PREFIXES = ("Error: ", "Hint: ", "Internal error: ")


def invoke(request: Any) -> Any:
    """Run one ccsync command for the host; see the module docstring for the request and the answer."""
    req = from_dotnet(request) if not isinstance(request, dict) else request
    on_output = req.get("OnOutput")

    def relay(kind: str, value: Any) -> None:
        if on_output is not None:
            on_output(kind, to_dotnet(value))

    run = run_command(str(req["Command"]), [str(a) for a in req.get("Arguments") or []],
                      cwd=req.get("WorkingDirectory"), environment=req.get("Environment"),
                      on_line=relay if on_output is not None else None)
    if run.error is not None:
        raise to_dotnet_exception(run.error, run.exit_code, run.document)
    return to_dotnet({"Document": run.document, "ExitCode": run.exit_code,
                      "Messages": [m for m in run.messages if not m.startswith(_ERROR_LINE_PREFIXES)]})


def probe(request: Any = None) -> Any:
    """The Python environment as the bridge sees it (``toolkit.interop.probe``), as .NET objects; the request
    is ignored (the module passes none)."""
    from .probe import describe

    return to_dotnet(describe())
