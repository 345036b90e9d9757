"""``ccsync sim serve``: run the simulated Microsoft clouds until Ctrl-C, for trying ccsync without a tenant.

The simulated app secrets are fake, but we keep the habit of real ones: they never go to stdout; they are
written to a 0600 file next to the profiles file, and only that file's path is shown.
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

import click

from toolkit.errors import InputError

from .output import add_rows, common_options, emit, info, key_value_table, new_table

SECRETS_FILE_NAME = "sim-secrets.env"
DEFAULT_SECRET_ENV = "CCSYNC_CLIENT_SECRET"

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


def resolve_seed_dir(explicit: str | None) -> Path:
    """The seed folder: the one given, else the checkout's samples/tenants, else ./samples/tenants.

    The second fallback serves a non-editable install (pip install .) run from the clone, where the package
    no longer sits next to samples/.
    """
    from toolkit.simulator import DEFAULT_SEED_DIR

    if explicit:
        return Path(explicit)
    for candidate in (Path(DEFAULT_SEED_DIR), Path.cwd() / "samples" / "tenants"):
        if candidate.is_dir():
            return candidate
    raise InputError("the sample tenants (samples/tenants) were not found.", source=str(DEFAULT_SEED_DIR),
                     hint="Run ccsync from a clone of the ccsync repository, or pass --seed-dir DIR.")


def build_config(seed_dir: str | None, latency_ms: float = 0.0, faults: str | None = None,
                 time_scale: float = 1.0, sync_scheduler: bool = False, sync_interval_s: float | None = None) -> Any:
    """The SimConfig for these options (InputError for a bad fault spec, naming the key)."""
    from toolkit.simulator import SimConfig
    from toolkit.simulator.faults import FaultConfig
    from toolkit.simulator.throttling import ThrottleConfig

    return SimConfig(seed_dir=resolve_seed_dir(seed_dir), latency_ms=latency_ms,
                     faults=FaultConfig.from_spec(faults or ""), throttle=ThrottleConfig(time_scale=time_scale),
                     sync_scheduler=sync_scheduler, sync_interval=sync_interval_s)


def fresh_token_cache(folder: Path) -> Path:
    """An empty token-cache folder for the simulated profiles.

    Tokens from an earlier simulator run are signed with that run's key and would be refused (401); they must
    not be offered again, nor mixed into the admin's real token cache.
    """
    from toolkit.private import make_private_dir

    make_private_dir(folder, what="simulator token cache folder")      # 0700 whatever the umask
    for stale in folder.glob("*.bin"):
        stale.unlink()
    return folder


def write_secrets_file(path: Path, profiles: Iterable[Any], secret_for: Any,
                       extra: dict[str, str] | None = None) -> dict[str, str]:
    """Write ``NAME=value`` lines (dotenv) of each profile's secret variable (and ``extra``) into a new 0600 file.

    Returns {profile name: variable name}. Two profiles sharing one variable name with different secrets
    cannot both be served by one environment: that is an InputError naming them.
    """
    lines: dict[str, str] = {}
    owners: dict[str, str] = {}
    names: dict[str, str] = {}
    for profile in profiles:
        if getattr(profile, "auth", "secret") != "secret":
            continue
        env = getattr(profile, "secret_env", None) or DEFAULT_SECRET_ENV
        secret = secret_for(profile.tenant, profile.client_id)
        if env in lines and lines[env] != secret:
            raise InputError(f"profiles '{owners[env]}' and '{profile.name}' both read their secret from {env}.",
                             hint="Give each simulated profile its own secret_env.")
        lines[env], owners[env], names[profile.name] = secret, profile.name, env
    from toolkit.report.atomic import check_output_path

    path.parent.mkdir(parents=True, exist_ok=True)
    check_output_path(path)          # never unlink a device, FIFO, folder or link someone put there
    if path.exists():
        path.unlink()  # recreate, so the mode below applies even if an older file was readable by others
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Secrets of the ccsync simulator's apps (valid until the simulator stops).\n")
        for env, secret in lines.items():
            handle.write(f"{env}={secret}\n")
        for env, value in (extra or {}).items():
            handle.write(f"{env}={value}\n")
    return names


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
@click.option("--seed-dir", type=click.Path(exists=True, file_okay=False), default=None, metavar="DIR",
              help="Directory of tenant seed files (*.json). Default: the simulator's seeded sample tenants.")
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
    from toolkit.simulator import Simulator
    from toolkit.simulator.portal import control_environment

    if sync_interval is not None and sync_interval <= 0:
        raise click.BadParameter("must be more than 0, e.g. 5s.", param_hint="--sync-interval")
    config = build_config(seed_dir, latency, faults, time_scale, sync_scheduler=True,
                          sync_interval_s=None if sync_interval is None else sync_interval / 1000.0)
    temp_dir = None
    if profiles_path is None:
        temp_dir = tempfile.TemporaryDirectory(prefix="ccsync-sim-")
        profiles_path = os.path.join(temp_dir.name, "profiles.toml")
    target = Path(profiles_path).expanduser().resolve()
    try:
        with Simulator(config) as sim:
            target.parent.mkdir(parents=True, exist_ok=True)
            sim.write_profiles(target)
            profiles = list(sim.profiles())
            secrets_path = target.parent / SECRETS_FILE_NAME
            tokens = fresh_token_cache(target.parent / "sim-tokens")
            env_names = write_secrets_file(secrets_path, profiles, sim.secret_for,
                                           extra={"CCSYNC_CACHE_DIR": str(tokens), **control_environment(sim)})
            data = serve_document(sim, profiles, target, secrets_path, env_names)
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
            fresh_token_cache(tokens)  # the tokens die with this simulator's signing key
            info("Simulator stopped.")
    finally:
        if temp_dir is not None:
            temp_dir.cleanup()


def serve_document(sim: Any, profiles: list[Any], profiles_path: Path, secrets_path: Path,
                   env_names: dict[str, str]) -> dict[str, Any]:
    """What ``sim serve`` reports: endpoints per cloud, CA bundle, files, and the profiles (no secrets)."""
    clouds = sorted({p.cloud for p in profiles})
    endpoints = {}
    for cloud in clouds:
        ep = sim.endpoints(cloud)
        endpoints[cloud] = {"loginUrl": ep.login_url, "graphUrl": ep.graph_url}
    return {
        "endpoints": endpoints,
        "caBundle": str(sim.ca_bundle),
        "profilesFile": str(profiles_path),
        "secretsFile": str(secrets_path),
        "profiles": [{"name": p.name, "cloud": p.cloud, "tenant": p.tenant, "clientId": p.client_id,
                      "secretEnv": env_names.get(p.name)} for p in profiles],
    }


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
