"""Running one registered ccsync command inside this Python process (the in-process half of the bridge).

The PowerShell module names a command path and its CLI arguments exactly as it would for ``ccsync ...
--output json``; this runs the same click command here and keeps what the command *emitted* as Python objects
(``toolkit.cli.output.RESULT_SINK``) instead of printing JSON. So every command in the registry is reachable
in-process the day it is added, with the CLI's own argument parsing, defaults and error handling.

What the CLI would write to stderr is kept line by line: JSON progress lines (``--progress events``) become
events, other lines messages. ``on_line`` (the host's callback) is only ever called on the calling thread: the
command runs on a worker thread (its own worker pools may emit from further threads) and the caller relays
queued lines, so a host whose callbacks must run on its own thread (a PowerShell runspace) is safe.

Pure Python: no .NET needed here (``toolkit.interop.entry`` converts the result).
"""

from __future__ import annotations

import io
import json
import os
import queue
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

import click

__all__ = ["CommandRun", "run_command"]

# One command at a time per process: stdout/stderr/cwd/environment are process-wide.
_LOCK = threading.Lock()
_POLL_SECONDS = 0.05


@dataclass
class CommandRun:
    """The outcome of one command: what it emitted, its exit code, and the error that ended it, if any."""

    command: str
    arguments: list[str]
    document: Any = None                 # the emitted result (Python objects), or plain stdout text, or None
    exit_code: int = 0
    error: BaseException | None = None   # CcsyncError, click.UsageError, click.Abort or an unexpected exception
    messages: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def parse_event(line: str) -> dict[str, Any] | None:
    """A progress event ({"event": ...} on one line, as ``--progress events`` writes) or None."""
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) and "event" in value else None


class _LineWriter(io.TextIOBase):
    """A text stream that hands each complete line to ``put`` (stderr of the command)."""

    def __init__(self, put: Callable[[str], None]):
        self._put = put
        self._buffer = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._put(line.rstrip("\r"))
        return len(text)

    def close_lines(self) -> None:
        with self._lock:
            rest, self._buffer = self._buffer, ""
        if rest:
            self._put(rest.rstrip("\r"))


@contextmanager
def _process_state(cwd: str | None, environment: Mapping[str, str] | None) -> Iterator[None]:
    """Working folder and environment of the host for the duration of a call.

    An embedded interpreter copied the environment when it started; the host (PowerShell) changes both later
    (``Set-Location``, ``$env:CCSYNC_CONTOSO_SECRET = ...``), so each call brings the host's current values;
    both are put back afterwards.
    """
    previous_cwd = os.getcwd()
    previous_environment = dict(os.environ)
    if environment is not None:
        for name in [n for n in os.environ if n not in environment]:
            del os.environ[name]
        for name, value in environment.items():
            if os.environ.get(name) != value:
                os.environ[name] = value
    if cwd:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        if environment is not None:  # the host's variables (secrets among them) do not outlive the call
            for name in [n for n in os.environ if n not in previous_environment]:
                del os.environ[name]
            for name, value in previous_environment.items():
                if os.environ.get(name) != value:
                    os.environ[name] = value


def run_command(command: str, arguments: Sequence[str] = (), *, cwd: str | None = None,
                environment: Mapping[str, str] | None = None,
                on_line: Callable[[str, Any], None] | None = None) -> CommandRun:
    """Run ``ccsync <command> <arguments> --output json`` in this process and return what it produced.

    ``on_line(kind, value)`` is called on this thread for each stderr line as it comes: ``("progress", event
    dict)`` or ``("message", text)``. Nothing prompts: stdin is empty, so a missing secret is an error naming its
    environment variable rather than a hidden prompt the host cannot show.
    """
    from toolkit.cli.output import RESULT_SINK

    run = CommandRun(command=command, arguments=[str(a) for a in arguments])
    argv = [*command.split(), *run.arguments, "--output", "json"]
    lines: queue.Queue[str | None] = queue.Queue()
    emitted: list[Any] = []
    stdout = io.StringIO()
    stderr = _LineWriter(lines.put)

    def work() -> None:
        RESULT_SINK.set(emitted.append)
        try:
            run.exit_code = _invoke(argv, run)
        finally:
            stderr.close_lines()
            lines.put(None)

    with _LOCK, _process_state(cwd, environment):
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(""), stdout, stderr
        try:
            worker = threading.Thread(target=work, name=f"ccsync {command}", daemon=True)
            worker.start()
            while True:
                try:
                    line = lines.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    continue
                if line is None:
                    break
                event = parse_event(line)
                if event is not None:
                    run.events.append(event)
                else:
                    run.messages.append(line)
                if on_line is not None:
                    on_line("progress" if event is not None else "message", event if event is not None else line)
            worker.join()
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
    if emitted:
        run.document = emitted[-1]
    elif stdout.getvalue().strip() and run.error is None:
        run.document = stdout.getvalue()  # a command that prints text (plan --show-default-mapping)
    return run


def _invoke(argv: list[str], run: CommandRun) -> int:
    """Run the click command tree on ``argv``; the exit code, with the ending error recorded on ``run``."""
    from toolkit.cli.main import cli
    from toolkit.errors import CcsyncError

    try:
        with cli.make_context("ccsync", list(argv)) as ctx:
            cli.invoke(ctx)
        return 0
    except click.exceptions.Exit as exc:
        # The root group turned a CcsyncError (or a bug) into an exit code and chained the original.
        if isinstance(exc.__cause__, Exception):
            run.error = exc.__cause__
        return int(exc.exit_code or 0)
    except click.exceptions.UsageError as exc:
        run.error = exc
        return 2
    except click.exceptions.Abort as exc:
        run.error = exc
        return 1
    except CcsyncError as exc:  # raised while parsing, before the root group's handler
        run.error = exc
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - reported to the host as an internal error, never lost
        run.error = exc
        return 1
