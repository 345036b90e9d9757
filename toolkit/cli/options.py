"""Options that several ccsync commands take, declared once: their switches, parameter names, metavars, types
and defaults (from ``toolkit.defaults``), and the help text they share.

Where a command's help says more than the shared text (what ``--scope`` defaults to for that command), the
command passes its own ``help=``; everything else about the option stays as declared here, so the CLI, the
registry (``ccsync commands``) and the PowerShell module see one option. ``common_options`` (``--output``,
``-v``, ``--config``) lives in ``output.py`` with the state it sets, and is re-exported here.
"""

from __future__ import annotations

from typing import Any, Callable

import click

from .. import defaults
from .output import common_options

__all__ = [
    "common_options", "tenant_option", "tenant_profile_option", "cloud_option", "scope_option", "catalog_option",
    "mapping_option", "report_option", "csv_option", "profile_option", "seed_dir_option", "since_option",
    "until_option", "archive_option", "link_attribute_option", "deletion_threshold_option", "what_if_option",
    "yes_option", "job_id_option", "configuration_name_option", "TENANT_HELP", "CLOUD_HELP",
]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

_SHORT = {"source": "-s", "target": "-t"}

# --- the sync's inputs: tenants (live profile or saved data), their clouds, scope, licences, mapping ---------

TENANT_HELP = "The {role} tenant: a profile name (exported live) or a snapshot folder / Graph JSON."
CLOUD_HELP = "The {role}'s cloud when --{role} is saved Graph JSON whose @odata links do not tell it."


def tenant_option(role: str, *, required: bool = False, help: str | None = None) -> Decorator:
    """``--source/-s`` or ``--target/-t PROFILE_OR_PATH``: a profile (exported live) or saved data."""
    return click.option(f"--{role}", _SHORT[role], required=required, metavar="PROFILE_OR_PATH",
                        help=help or TENANT_HELP.format(role=role))


def tenant_profile_option(role: str, *, help: str) -> Decorator:
    """``--source`` / ``--target PROFILE`` where only a live tenant will do (``xts``): parameter ``<role>_name``."""
    return click.option(f"--{role}", f"{role}_name", required=True, metavar="PROFILE", help=help)


def cloud_option(role: str, *, required: bool = False, short: bool = False, help: str | None = None) -> Decorator:
    """``--source-cloud`` / ``--target-cloud CLOUD`` (``-t`` for eligibility's target cloud, with ``short``)."""
    switches = [f"--{role}-cloud"] + ([_SHORT[role]] if short else [])
    return click.option(*switches, required=required, metavar="CLOUD", help=help or CLOUD_HELP.format(role=role))


def scope_option(*, help: str) -> Decorator:
    """``--scope FILE``: a scoping file (groups and filters); each command says what the default scope is."""
    return click.option("--scope", "scope_file", type=click.Path(dir_okay=False), metavar="FILE", help=help)


def catalog_option(*, help: str = "Microsoft's newest 'Product names and service plan identifiers' CSV instead "
                                  "of the bundled one.") -> Decorator:
    """``--catalog CSV``: Microsoft's licensing CSV instead of the bundled catalog."""
    return click.option("--catalog", "catalog_csv", type=click.Path(dir_okay=False), metavar="CSV", help=help)


def mapping_option() -> Decorator:
    """``--mapping FILE``: the attribute mapping file."""
    return click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False), metavar="FILE",
                        help="Attribute mapping file; default: Entra's cross-tenant sync defaults "
                             "(--show-default-mapping).")


def link_attribute_option(*, help: str) -> Decorator:
    """``--link-attribute``: the target extension attribute holding ccsync's link (default in toolkit.defaults)."""
    return click.option("--link-attribute", default=defaults.LINK_ATTRIBUTE, show_default=True, help=help)


def deletion_threshold_option(*, help: str) -> Decorator:
    """``--deletion-threshold N``: Entra's accidental-deletion threshold (default in toolkit.defaults)."""
    return click.option("--deletion-threshold", type=click.IntRange(min=0), default=defaults.DELETION_THRESHOLD,
                        show_default=True, help=help)


# --- tenants reached through a profile, and the files commands write ---------------------------------------

def profile_option(*, help: str) -> Decorator:
    """``--profile/-p NAME`` (required): the profile of the tenant the command works on."""
    return click.option("--profile", "-p", "profile_name", required=True, metavar="NAME", help=help)


def report_option(*, help: str) -> Decorator:
    """``--report FILE.xlsx``: write the command's Excel workbook."""
    return click.option("--report", "report_path", type=click.Path(dir_okay=False), metavar="FILE.xlsx", help=help)


def csv_option(*, help: str) -> Decorator:
    """``--csv FILE.csv``: write the command's rows as CSV."""
    return click.option("--csv", "csv_path", type=click.Path(dir_okay=False), metavar="FILE.csv", help=help)


def seed_dir_option(*, help: str) -> Decorator:
    """``--seed-dir DIR``: the simulator's tenant seed files (default: samples/tenants)."""
    return click.option("--seed-dir", type=click.Path(exists=True, file_okay=False), default=None, metavar="DIR",
                        help=help)


# --- logs: time windows and the archive ---------------------------------------------------------------------

def since_option(*, help: str) -> Decorator:
    return click.option("--since", metavar="WHEN", help=help)


def until_option(*, help: str) -> Decorator:
    return click.option("--until", metavar="WHEN", help=help)


def archive_option(*, help: str) -> Decorator:
    """``--archive PATH``: the SQLite log archive (``ccsync logs fetch`` writes it, ``ccsync report`` reads it)."""
    return click.option("--archive", "archive_path", type=click.Path(dir_okay=False), metavar="PATH", help=help)


# --- Entra's sync job (xts) and commands that write ---------------------------------------------------------

def what_if_option(*, help: str) -> Decorator:
    """``--what-if``: show what would be sent; send nothing."""
    return click.option("--what-if", is_flag=True, default=False, help=help)


def yes_option(*, help: str) -> Decorator:
    """``--yes/-y``: do not ask before a destructive step."""
    return click.option("--yes", "-y", is_flag=True, default=False, help=help)


def job_id_option(*, help: str = "The sync job's id (when there are several).", **attrs: Any) -> Decorator:
    """``--job ID``: one sync job of the configuration (``attrs``: more click settings, e.g. ``default``)."""
    return click.option("--job", "job_id", metavar="ID", help=help, **attrs)


def configuration_name_option() -> Decorator:
    """``--name NAME``: the sync configuration (its service principal's name)."""
    return click.option("--name", default=None, metavar="NAME",
                        help="The sync configuration's name. Default for enable/disable: 'ccsync to <target "
                             "tenant id>'.")
