"""What every ccsync command shares: the common options, JSON vs table output, messages, and error rendering.

Conventions (DESIGN.md): in ``--output json`` stdout carries exactly one JSON document; messages, warnings and
progress go to stderr; human tables go to stdout. Exit 0 success, 1 the work found problems or a service failed,
2 usage or input errors. rich is imported only when a table is drawn, to keep start-up fast.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import click

from toolkit.errors import CcsyncError
from toolkit.jsonable import to_jsonable  # re-exported: commands import it from here

__all__ = [
    "OUTPUT_MODES", "COMMON_OPTION_NAMES", "CliState", "state", "common_options", "emit", "info", "warn",
    "to_jsonable", "report_error", "report_usage_error", "report_internal_error", "reset_logging", "stdout_console",
    "new_table", "cell", "key_value_table", "add_rows", "RESULT_SINK",
]

OUTPUT_MODES = ("table", "json")
# Options every command accepts, at the root and on each command, so callers (the PowerShell module) can append
# "--output json" after any command path.
COMMON_OPTION_NAMES = ("output", "verbose", "config_path")  # click parameter names


@dataclass
class CliState:
    """Per-invocation settings gathered from the common options, held on the root click context."""

    output: str = "table"
    verbose: bool = False
    config: str | None = None
    emitted: bool = False  # a JSON document was written: an error must not write a second one

    @property
    def json(self) -> bool:
        return self.output == "json"


def state(ctx: click.Context | None = None) -> CliState:
    """The invocation's CliState (created on first use)."""
    ctx = ctx or click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def _set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        state(ctx).output = value


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        state(ctx).verbose = True
        _configure_logging(verbose=True)


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        state(ctx).config = value


_LOG_HANDLER_NAME = "ccsync-cli-stderr"


def _configure_logging(verbose: bool) -> None:
    """DEBUG logs of the toolkit go to the current stderr with -v; otherwise only warnings."""
    reset_logging()
    logger = logging.getLogger("toolkit")
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_LOG_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)


def reset_logging() -> None:
    """Remove the stderr handler -v installed (the stream may not outlive this invocation)."""
    logger = logging.getLogger("toolkit")
    for handler in list(logger.handlers):
        if handler.get_name() == _LOG_HANDLER_NAME:
            logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --output, -v/--verbose and --config to a command (they may also be given before the command)."""
    func = click.option(
        "--config", "config_path", type=click.Path(dir_okay=False), default=None, expose_value=False,
        callback=_set_config, metavar="PATH",
        help="Profiles file (TOML). Default: $CCSYNC_CONFIG, else ~/.config/ccsync/config.toml.")(func)
    func = click.option(
        "-v", "--verbose", is_flag=True, default=False, expose_value=False, callback=_set_verbose,
        help="Show DEBUG logs and tracebacks on stderr.")(func)
    func = click.option(
        "--output", "-o", type=click.Choice(OUTPUT_MODES), default=None, expose_value=False, is_eager=True,
        callback=_set_output,
        help="table (default): readable tables on stdout; json: exactly one JSON document on stdout.")(func)
    return func


# The PowerShell bridge (toolkit.interop) sets this to receive a command's result object itself, not its JSON.
RESULT_SINK: contextvars.ContextVar[Callable[[Any], None] | None] = contextvars.ContextVar(
    "ccsync_result_sink", default=None)


def emit(data: Any, render: Callable[[Any], None] | None = None) -> None:
    """Write a command's result: one JSON document (json mode) or the tables ``render(console)`` draws."""
    st = state()
    sink = RESULT_SINK.get()
    if sink is not None:
        sink(data)
        st.emitted = True
        return
    if st.json or render is None:
        click.echo(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False))
        sys.stdout.flush()
        st.emitted = True
        return
    render(stdout_console())


def stdout_console() -> Any:
    """A rich Console on the current stdout (no colour when stdout is not a terminal)."""
    import os

    from rich.console import Console

    width = None
    if not sys.stdout.isatty():
        # Piped or captured output: rich would assume 80 columns and cut URLs; allow wide lines instead.
        width = int(os.environ.get("COLUMNS") or 0) or 200
    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width)


def new_table(*columns: str, title: str | None = None) -> Any:
    """A rich Table with the given column headers."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")  # fold long values (URLs, GUIDs) rather than cut them
    return table


def cell(value: Any) -> Any:
    """A table cell that shows data literally (a display name like '[Sales]' is not rich markup)."""
    from rich.text import Text

    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, (list, tuple)):
        return Text(", ".join(str(v) for v in value))
    return Text(str(value))


def info(message: str) -> None:
    """A message for the person at the terminal (stderr, never mixed into results)."""
    click.echo(message, err=True)


def warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)


def report_error(err: CcsyncError) -> int:
    """Show a CcsyncError as 'Error: ...' (+ hint) on stderr, and as a JSON object in json mode; its exit code."""
    st = state()
    click.echo(f"Error: {err.message}", err=True)
    if err.hint:
        click.echo(f"Hint: {err.hint}", err=True)
    if st.verbose:
        click.echo("".join(traceback.format_exception(err)), err=True, nl=False)
    if st.json and not st.emitted:
        click.echo(json.dumps(to_jsonable(err.to_dict()), indent=2, ensure_ascii=False))
        st.emitted = True
    return err.exit_code


def report_usage_error(err: click.exceptions.UsageError) -> None:
    """In json mode, also put usage errors on stdout as a JSON object (click prints the usage text)."""
    st = state(err.ctx) if err.ctx else None
    if st is not None and st.json and not st.emitted:
        click.echo(json.dumps({"error": "UsageError", "message": err.format_message()}, indent=2))
        st.emitted = True


def report_internal_error(exc: BaseException) -> int:
    """An unexpected exception: one line (traceback only with -v); exit 1."""
    st = state()
    summary = f"{type(exc).__name__}: {exc}".strip()
    click.echo(f"Internal error: {summary}. This is a bug in ccsync; rerun with -v for the traceback.", err=True)
    if st.verbose:
        click.echo("".join(traceback.format_exception(exc)), err=True, nl=False)
    if st.json and not st.emitted:
        click.echo(json.dumps({"error": "InternalError", "message": summary}, indent=2))
        st.emitted = True
    return 1


def key_value_table(rows: Iterable[tuple[str, Any]], title: str | None = None) -> Any:
    """A two-column table of labelled values."""
    table = new_table("", "", title=title)
    table.show_header = False
    for key, value in rows:
        table.add_row(cell(key), cell(value))
    return table


def add_rows(table: Any, rows: Sequence[Sequence[Any]]) -> Any:
    for row in rows:
        table.add_row(*(cell(v) for v in row))
    return table
