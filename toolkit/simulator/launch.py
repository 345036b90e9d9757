"""Starting the simulated clouds for a person or a demo: the seed folder, the simulator's configuration, a
throw-away token cache, the 0600 secrets file, and what a running simulator tells its user.

The simulated app secrets are fake, but we keep the habit of real ones: they are never returned in a document
or printed; they go to a 0600 file (dotenv lines) whose path is shown instead. Tokens a simulator issued are
signed with that run's key: they are kept out of the admin's real token cache and removed when it stops.

``ccsync sim serve`` and ``ccsync demo`` (``toolkit.demo``) call these; nothing here prints.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..config import DEFAULT_SECRET_ENV
from ..errors import InputError

__all__ = ["SECRETS_FILE_NAME", "SimSession", "resolve_seed_dir", "build_config", "fresh_token_cache",
           "throwaway_token_cache", "write_secrets_file", "describe_session", "serve_session"]

SECRETS_FILE_NAME = "sim-secrets.env"
TOKENS_FOLDER_NAME = "sim-tokens"


def resolve_seed_dir(explicit: str | Path | None) -> Path:
    """The seed folder: the one given, else the checkout's samples/tenants, else ./samples/tenants.

    The second fallback serves a non-editable install (pip install .) run from the clone, where the package
    no longer sits next to samples/.
    """
    from . import DEFAULT_SEED_DIR

    if explicit:
        return Path(explicit)
    for candidate in (Path(DEFAULT_SEED_DIR), Path.cwd() / "samples" / "tenants"):
        if candidate.is_dir():
            return candidate
    raise InputError("the sample tenants (samples/tenants) were not found.", source=str(DEFAULT_SEED_DIR),
                     hint="Run ccsync from a clone of the ccsync repository, or pass --seed-dir DIR.")


def build_config(seed_dir: str | Path | None, latency_ms: float = 0.0, faults: str | None = None,
                 time_scale: float = 1.0, sync_scheduler: bool = False, sync_interval_s: float | None = None) -> Any:
    """The SimConfig for these options (InputError for a bad fault spec, naming the key)."""
    from . import SimConfig
    from .faults import FaultConfig
    from .throttling import ThrottleConfig

    return SimConfig(seed_dir=resolve_seed_dir(seed_dir), latency_ms=latency_ms,
                     faults=FaultConfig.from_spec(faults or ""), throttle=ThrottleConfig(time_scale=time_scale),
                     sync_scheduler=sync_scheduler, sync_interval=sync_interval_s)


def fresh_token_cache(folder: Path) -> Path:
    """An empty token-cache folder for the simulated profiles.

    Tokens from an earlier simulator run are signed with that run's key and would be refused (401); they must
    not be offered again, nor mixed into the admin's real token cache.
    """
    from ..private import make_private_dir

    make_private_dir(folder, what="simulator token cache folder")      # 0700 whatever the umask
    for stale in folder.glob("*.bin"):
        stale.unlink()
    return folder


@contextmanager
def throwaway_token_cache() -> Iterator[str]:
    """Point ccsync's token cache (CCSYNC_CACHE_DIR) at a throw-away folder for the duration (in-process use).

    Simulated tokens must not land in the admin's real cache, and a token cached by an earlier simulator run
    (signed with that run's key) must not be offered to this one.
    """
    previous = os.environ.get("CCSYNC_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="ccsync-demo-tokens-") as folder:
        os.environ["CCSYNC_CACHE_DIR"] = folder
        try:
            yield folder
        finally:
            if previous is None:
                os.environ.pop("CCSYNC_CACHE_DIR", None)
            else:
                os.environ["CCSYNC_CACHE_DIR"] = previous


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
    from ..writefile import check_output_path

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


def describe_session(sim: Any, profiles: list[Any], profiles_path: Path, secrets_path: Path,
                     env_names: dict[str, str]) -> dict[str, Any]:
    """What a running simulator tells its user: endpoints per cloud, CA bundle, files, profiles (no secrets)."""
    endpoints = {}
    for cloud in sorted({p.cloud for p in profiles}):
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


@dataclass(frozen=True)
class SimSession:
    """A running simulator set up for use from other processes: its profiles file, secrets file and token cache."""

    sim: Any
    profiles: list[Any]
    profiles_path: Path
    secrets_path: Path
    token_cache: Path
    document: dict[str, Any]          # describe_session(...): safe to print


@contextmanager
def serve_session(config: Any, profiles_path: str | Path | None) -> Iterator[SimSession]:
    """Start the simulator, write its profiles TOML (``profiles_path``, else a temporary folder removed on exit),
    the secrets file beside it (with the token-cache folder and the portal control channel), and yield the
    session; on exit the simulator stops and its tokens are removed (they die with its signing key)."""
    from . import Simulator
    from .portal import control_environment

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
            tokens = fresh_token_cache(target.parent / TOKENS_FOLDER_NAME)
            env_names = write_secrets_file(secrets_path, profiles, sim.secret_for,
                                           extra={"CCSYNC_CACHE_DIR": str(tokens), **control_environment(sim)})
            yield SimSession(sim, profiles, target, secrets_path, tokens,
                             describe_session(sim, profiles, target, secrets_path, env_names))
            fresh_token_cache(tokens)
    finally:
        if temp_dir is not None:
            temp_dir.cleanup()
