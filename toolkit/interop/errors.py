"""ccsync errors -> .NET exceptions that a PowerShell host turns into ErrorRecords.

Each exception carries in its ``Data``: ``ErrorId`` (``Ccsync.<ErrorClass>``, the same id the CLI mode derives
from the JSON ``error`` key), ``Category`` (a ``System.Management.Automation.ErrorCategory`` name), ``Hint``
(what to do), ``ExitCode`` (the CLI's), ``Details`` (the error's ``to_dict()``: file/row/field, Graph code and
request-id ...) and, when the command had already emitted one, ``Document``.
"""

from __future__ import annotations

from typing import Any

import click

from toolkit import errors as e

from .convert import _system, to_dotnet

__all__ = ["category_of", "error_fields", "to_dotnet_exception"]

# Most specific class first. Categories are PowerShell's ErrorCategory names.
_CATEGORIES: tuple[tuple[type, str], ...] = (
    (e.GraphAuthorizationError, "PermissionDenied"),
    (e.GraphNotFound, "ObjectNotFound"),
    (e.GraphConflict, "ResourceExists"),
    (e.GraphThrottled, "LimitsExceeded"),
    (e.GraphServerError, "ResourceUnavailable"),
    (e.GraphError, "InvalidOperation"),
    (e.TransportError, "ConnectionError"),
    (e.BusyError, "ResourceBusy"),                # another apply of the same plan is running (apply/lock.py)
    (e.WriteRefused, "SecurityError"),            # the write-time guard refused a request (apply/guard.py)
    (e.AuthError, "AuthenticationError"),
    (e.CredentialError, "AuthenticationError"),
    (e.InputError, "InvalidArgument"),
    (e.ConfigError, "InvalidArgument"),
    (e.CloudError, "InvalidArgument"),
    (e.CcsyncError, "InvalidArgument"),
    (click.exceptions.UsageError, "InvalidArgument"),
    (click.exceptions.Abort, "OperationStopped"),
)


def category_of(error_class: type) -> str:
    """The ErrorCategory name for an error class (InternalError: anything unexpected -> NotSpecified)."""
    return next((c for cls, c in _CATEGORIES if issubclass(error_class, cls)), "NotSpecified")


def error_fields(error: BaseException, exit_code: int) -> dict[str, Any]:
    """ErrorId, Category, Message, Hint, ExitCode and Details of an error, as plain Python."""
    if isinstance(error, e.CcsyncError):
        name, message, hint, details = type(error).__name__, error.message, error.hint, error.to_dict()
    elif isinstance(error, click.exceptions.UsageError):
        name, message, hint, details = "UsageError", error.format_message(), None, {}
        if error.ctx is not None:
            hint = f"See 'ccsync {error.ctx.command_path.split(' ', 1)[-1]} --help' for its options."
    elif isinstance(error, click.exceptions.Abort):
        name, message, hint, details = "Aborted", "The command was stopped.", None, {}
    else:
        name = "InternalError"
        message = f"{type(error).__name__}: {error}".strip()
        hint = "This is a bug in ccsync; run the same command with 'ccsync ... -v' for the traceback."
        details = {}
    category = category_of(type(error))
    return {"ErrorId": f"Ccsync.{name}", "Category": category, "Message": message, "Hint": hint,
            "ExitCode": exit_code, "Details": details}


def _exception_type(category: str) -> Any:
    System = _system()
    if category == "InvalidArgument":
        return System.ArgumentException
    if category in ("PermissionDenied", "AuthenticationError"):
        return System.UnauthorizedAccessException
    if category == "ConnectionError":
        return System.IO.IOException
    if category == "OperationStopped":
        return System.OperationCanceledException
    return System.InvalidOperationException


def to_dotnet_exception(error: BaseException, exit_code: int, document: Any = None) -> Any:
    """A .NET exception for ``error``, with the fields above in its ``Data``; raise it from Python code called
    by the host and the host receives this exception itself."""
    fields = error_fields(error, exit_code)
    exception = _exception_type(fields["Category"])(fields["Message"])
    for key, value in fields.items():
        if key != "Message" and value is not None:
            exception.Data[key] = to_dotnet(value)
    if document is not None:
        exception.Data["Document"] = to_dotnet(document)
    return exception
