"""The ``ccsync`` root command and the one place where errors become exit codes.

Importing this module must stay fast (every PowerShell cmdlet may start Python): command modules import heavy
libraries (pandas, msal, werkzeug, rich) inside their functions.
"""

from __future__ import annotations

from typing import Any, Sequence

import click

from toolkit import __version__
from toolkit.errors import CcsyncError

from .output import common_options, report_error, report_internal_error, report_usage_error, reset_logging


class CcsGroup(click.Group):
    """The root group: every command runs inside its ``invoke``, so errors are handled once, here."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CcsyncError as err:
            raise click.exceptions.Exit(report_error(err)) from err
        except click.exceptions.UsageError as err:
            report_usage_error(err)
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place unexpected errors are turned into exit 1
            raise click.exceptions.Exit(report_internal_error(exc)) from exc
        finally:
            reset_logging()


@click.group(cls=CcsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ccsync", message="%(prog)s %(version)s",
                      help="Show the ccsync version and exit.")
@common_options
def cli() -> None:
    """ccsync: Microsoft Entra cross-cloud user synchronization toolkit.

    Every command answers in JSON with --output json (one document on stdout; messages on stderr).
    Exit codes: 0 success, 1 the work found problems or a service failed, 2 usage or input errors.
    """


def _register() -> None:
    # Command modules are light at import time; their heavy imports happen when a command runs.
    from . import clouds, demo, eligibility, export, login, plan, registry, sim

    cli.add_command(clouds.clouds_group)
    cli.add_command(login.login_command)
    cli.add_command(export.export_command)
    cli.add_command(eligibility.eligibility_command)
    cli.add_command(plan.plan_command)
    cli.add_command(sim.sim_group)
    cli.add_command(demo.demo_command)
    cli.add_command(registry.commands_command)
    from .apply import apply_command
    cli.add_command(apply_command)
    from .migrate import migrate_group; cli.add_command(migrate_group)  # noqa: E702
    from .logs import logs_group
    cli.add_command(logs_group)
    from .report import report_group
    cli.add_command(report_group)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: run ccsync with ``argv`` (default: sys.argv) and exit with its code."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="ccsync")


if __name__ == "__main__":
    main()
