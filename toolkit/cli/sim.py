"""``ccsync sim``: click glue over ``toolkit.simulator.launch`` (serve until Ctrl-C) and the portal control
channel (``toolkit.simulator.portal``): options, signals, and what is printed.

Secrets never go to stdout: the library writes them to a 0600 file and only that file's path is shown.
"""

from __future__ import annotations

import re
import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator

import click

from .options import seed_dir_option
from .output import add_rows, common_options, emit, info, key_value_table, new_table

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*$", re.IGNORECASE)


class Milliseconds(click.ParamType):
    """A duration such as ``100ms``, ``0.25s`` or ``100`` (bare numbers are milliseconds), as milliseconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        match = _DURATION.match(str(value))
        if not match:
            self.fail(f"'{value}' is not a duration; write e.g. 100ms or 0.5s.", param, ctx)
        number, unit = float(match.group(1)), (match.group(2) or "ms").lower()
        return number * (1000.0 if unit == "s" else 1.0)


@contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """An event set by Ctrl-C (SIGINT) or SIGTERM while the block runs; the previous handlers come back after.

    Both handlers are installed explicitly: a shell starts background jobs with SIGINT ignored, and Python
    then never raises KeyboardInterrupt. Install them before announcing readiness, so no signal is missed.
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.group("sim")
def sim_group() -> None:
    """The simulated Microsoft clouds (Entra sign-in and Graph v1.0 over HTTPS on 127.0.0.1)."""


@sim_group.command("serve")
@seed_dir_option(help="Directory of tenant seed files (*.json). Default: the simulator's seeded sample tenants.")
@click.option("--latency", type=Milliseconds(), default="0ms", show_default=True, metavar="DURATION",
              help="Delay added to every request, e.g. 100ms or 0.5s.")
@click.option("--faults", default=None, metavar="SPEC",
              help="Fault injection, e.g. '429=0.1,503=0.02,reset=0.01,lag=2s' (rates 0..1 or %, durations).")
@click.option("--write-profiles", "profiles_path", type=click.Path(dir_okay=False), default=None, metavar="PATH",
              help="Write a profiles TOML for the simulated tenants here (secrets go to sim-secrets.env "
                   "beside it). Default: a temporary directory removed on exit.")
@click.option("--time-scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              metavar="F", help="Multiply every throttling window by F (0.1 makes a 150 s window last 15 s).")
@click.option("--sync-interval", type=Milliseconds(), default=None, metavar="DURATION",
              help="Run Entra's cross-tenant sync jobs this often (e.g. 5s) instead of every 40 minutes (PT40M).")
@common_options
def serve_command(seed_dir: str | None, latency: float, faults: str | None, profiles_path: str | None,
                  time_scale: float, sync_interval: float | None) -> None:
    """Start the simulated clouds, print their endpoints, CA bundle and profiles file, and serve until Ctrl-C.

    Started sync jobs run on their schedule (PT40M, or --sync-interval). Portal-only steps and an immediate
    cycle: 'ccsync sim portal ...' and 'ccsync sim run-cycle' from a shell that loaded the secrets file.

    Example: ccsync sim serve --write-profiles sim/profiles.toml --latency 50ms --faults '429=0.05'
    """
    from toolkit.simulator.launch import build_config, serve_session

    if sync_interval is not None and sync_interval <= 0:
        raise click.BadParameter("must be more than 0, e.g. 5s.", param_hint="--sync-interval")
    config = build_config(seed_dir, latency, faults, time_scale, sync_scheduler=True,
                          sync_interval_s=None if sync_interval is None else sync_interval / 1000.0)
    with serve_session(config, profiles_path) as session:
        data, target, secrets_path, profiles = (session.document, session.profiles_path, session.secrets_path,
                                                session.profiles)
        with stop_signals() as stop:
            emit(data, lambda console: _render_serve(console, data))
            info(f"\nTo use it from another shell:\n"
                 f"  bash:       export CCSYNC_CONFIG={target}; set -a; . {secrets_path}; set +a\n"
                 f"  PowerShell: $env:CCSYNC_CONFIG = '{target}'; Get-Content '{secrets_path}' | "
                 f"Where-Object {{ $_ -match '^[A-Z]' }} | ForEach-Object {{ $n, $v = $_ -split '=', 2; "
                 f"Set-Item \"env:$n\" $v }}\n"
                 f"  then e.g.   ccsync login --profile {profiles[0].name if profiles else 'NAME'}\n"
                 f"Entra's sync jobs run on their schedule; portal-only steps: 'ccsync sim portal --help', "
                 f"a cycle now: 'ccsync sim run-cycle'.\n"
                 f"The simulator is running. Press Ctrl-C to stop it.")
            while not stop.wait(0.5):
                pass
    info("Simulator stopped.")


def _render_serve(console: Any, data: dict[str, Any]) -> None:
    endpoints = new_table("cloud", "login URL", "Graph URL", title="Simulated clouds")
    add_rows(endpoints, [(c, e["loginUrl"], e["graphUrl"]) for c, e in data["endpoints"].items()])
    console.print(endpoints)
    profiles = new_table("profile", "cloud", "tenant", "secret variable", title="Profiles")
    add_rows(profiles, [(p["name"], p["cloud"], p["tenant"], p["secretEnv"]) for p in data["profiles"]])
    console.print(profiles)
    console.print(key_value_table([("CA bundle", data["caBundle"]), ("profiles file", data["profilesFile"]),
                                   ("secrets file (0600)", data["secretsFile"])]))


# --- portal-only steps and cycles on a running simulator ---------------------------------------------------

def _render_principal(console: Any, data: dict[str, Any]) -> None:
    sp = data["servicePrincipal"]
    console.print(key_value_table([("done", data["action"]), ("service principal", sp["displayName"]),
                                   ("id", sp["id"]), ("appId", sp["appId"])]))


@sim_group.group("portal")
def portal_group() -> None:
    """Admin-portal clicks on a running simulator: the cross-cloud sync steps Microsoft offers only in the
    Entra admin center (no Graph API), so no ccsync command can make them. Needs the environment of
    'ccsync sim serve' (its secrets file)."""


@portal_group.command("tick-cross-cloud-sync")
@click.option("--tenant", required=True, metavar="TENANT",
              help="The TARGET tenant (id or verified domain) whose admin ticks the checkbox.")
@click.option("--source-cloud", required=True, metavar="CLOUD",
              help="The cloud to accept synchronization from: commercial, gcc, gcch, dod or china.")
@common_options
def portal_tick_command(tenant: str, source_cloud: str) -> None:
    """Target tenant > Cross-tenant access settings > Microsoft cloud settings: tick the source cloud and its
    "cross-cloud synchronization" checkbox. Creates the service principal with User.ReadWrite.CrossCloud,
    User.Invite.All, Organization.Read.All and Policy.Read.All (then visible in GET /servicePrincipals).

    Example: ccsync sim portal tick-cross-cloud-sync --tenant fabrikamfederal.us --source-cloud commercial
    """
    from toolkit.simulator.portal import send_control

    data = send_control("tick-cross-cloud-sync", {"tenant": tenant, "cloud": source_cloud})
    emit(data, lambda console: _render_principal(console, data))


@portal_group.command("create-configuration")
@click.option("--tenant", required=True, metavar="TENANT", help="The SOURCE tenant (id or verified domain).")
@click.option("--name", required=True, metavar="NAME", help="The configuration's name (its service principal's).")
@common_options
def portal_configuration_command(tenant: str, name: str) -> None:
    """Source tenant > Cross-tenant synchronization > New configuration with "Setup cross-tenant synchronization
    across Microsoft clouds" ticked. Graph's applicationTemplates instantiate cannot set that checkbox.

    Example: ccsync sim portal create-configuration --tenant contoso.com --name "Fabrikam Federal"
    """
    from toolkit.simulator.portal import send_control

    data = send_control("create-configuration", {"tenant": tenant, "name": name})
    emit(data, lambda console: _render_principal(console, data))


@sim_group.command("run-cycle")
@click.option("--tenant", default=None, metavar="TENANT",
              help="Only the sync jobs of this source tenant (id or verified domain). Default: every tenant.")
@click.option("--job", "job_id", default=None, metavar="ID", help="Only this sync job.")
@common_options
def run_cycle_command(tenant: str | None, job_id: str | None) -> None:
    """Run one provisioning cycle now for every started sync job of a running simulator, instead of waiting
    for its schedule (a job in TooManyDeletes quarantine waits for start or restart, as in Entra).

    Example: ccsync sim run-cycle --tenant contoso.com
    """
    from toolkit.simulator.portal import send_control

    fields = {k: v for k, v in (("tenant", tenant), ("job", job_id)) if v}
    data = send_control("run-cycle", fields)

    def render(console: Any) -> None:
        table = new_table("tenant", "job", "status", "exported", "escrowed", "quarantine", title="Cycles run")
        add_rows(table, [(j["tenantId"], j["id"], j["status"]["code"],
                          (j["status"].get("lastExecution") or {}).get("countExported"),
                          (j["status"].get("lastExecution") or {}).get("countEscrowed"),
                          (j["status"].get("quarantine") or {}).get("reason") or "") for j in data["jobs"]])
        console.print(table)
        if not data["jobs"]:
            info("No started sync job to run.")
    emit(data, render)
