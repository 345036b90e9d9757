"""Simulated Microsoft clouds: Entra login and Microsoft Graph v1.0 over real loopback HTTPS.

::

    from toolkit.simulator import Simulator, SimConfig
    with Simulator(SimConfig(seed_dir="samples/tenants")) as sim:
        ep = sim.endpoints("gcch")          # SimEndpoints(login_url, graph_url)
        sim.ca_bundle                       # PEM of the simulator's test CA
        sim.profiles()                      # a Profile per seeded tenant app, pointing at the simulator
        sim.secret_for(tenant_id)           # that tenant's app secret (random per start)
        sim.tenant("contoso.com")           # TenantState, to check the simulated directory in tests
        sim.write_profiles(path)            # TOML config with those profiles (no secrets)

One HTTPS server per cloud that has seeded tenants; nothing outside this package knows it is not Microsoft.

This module owns the ``Simulator`` (start, stop, endpoints, secrets, profiles) and ``SimConfig``. The parts it
starts: ``server`` (a cloud's HTTPS server, over ``httpd``), ``login`` (the identity platform), ``graph_api/``
(Graph v1.0: its core and one module per resource family) with the simulator's other route families, all listed
in ``registry``; ``odata/`` (query options and ``$filter``), ``state`` (tenants), ``throttling``, ``faults``,
``syncengine`` and ``portal`` (Entra's cross-tenant sync and its portal-only steps), ``generate`` (large tenants).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import shutil
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..errors import CloudError, ConfigError, InputError

if TYPE_CHECKING:
    from .server import CloudServer
    from .state import Directory, TenantState

__all__ = ["Simulator", "SimConfig", "SimEndpoints", "DEFAULT_SEED_DIR"]

from ..locations import project_dir

# The sample tenants: the checkout's samples/tenants, or the copy a regular install puts in <prefix>/share/ccsync.
DEFAULT_SEED_DIR = project_dir("samples") / "tenants"


@dataclass
class SimConfig:
    """How to run the simulator.

    ``seed_dir``: folder of tenant seed files (None: none); ``seeds``: more seed dicts (e.g. from the large-tenant
    generator); ``faults`` / ``throttle``: ``FaultConfig`` / ``ThrottleConfig`` (None: defaults = no faults,
    documented quotas); ``latency_ms``: extra delay before every Graph answer; ``page_size``: default page size of
    collections (Graph's is 100); ``batch_seed``: seeds the order in which $batch responses come back.
    ``sync_scheduler``: run Entra's sync jobs in the background on their schedule (off by default, so tests
    run cycles with ``Simulator.run_sync_cycle``); ``sync_interval``: seconds between cycles instead of each
    job's PT40M.
    """

    seed_dir: str | Path | None = DEFAULT_SEED_DIR
    seeds: list[Mapping[str, Any]] = field(default_factory=list)
    latency_ms: float = 0.0
    faults: Any = None
    throttle: Any = None
    page_size: int = 100
    batch_seed: int | None = None
    device_auto_approve_after: int = 1
    sync_scheduler: bool = False
    sync_interval: float | None = None


@dataclass(frozen=True)
class SimEndpoints:
    login_url: str
    graph_url: str

    def to_dict(self) -> dict[str, str]:
        return {"loginUrl": self.login_url, "graphUrl": self.graph_url}


class Simulator:
    """All simulated clouds; start with ``start()`` or ``with``; ``stop()`` shuts every server down."""

    def __init__(self, config: SimConfig | None = None):
        self.config = config or SimConfig()
        self.directory: Directory | None = None
        self.servers: dict[str, CloudServer] = {}
        self._tmp: str | None = None
        self._ca_bundle: str | None = None
        self.throttle: Any = None
        self.faults: Any = None
        self._sync: Any = None
        self.control_token = ""     # per start; lets `ccsync sim portal` reach this simulator (portal.py)

    # --- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> "Simulator":
        """Load the seeds and start one HTTPS server per cloud that has tenants."""
        if self.servers:
            return self
        import trustme

        from .faults import FaultConfig, FaultInjector
        from .server import CloudServer
        from .state import Directory, load_seed_dir
        from .throttling import ThrottleConfig, ThrottleModel

        directory = Directory()
        if self.config.seed_dir is not None:
            load_seed_dir(directory, self.config.seed_dir)
        for i, seed in enumerate(self.config.seeds):
            directory.add_tenant(seed, source=f"SimConfig.seeds[{i}]")
        if not directory.tenants:
            raise InputError("the simulator has no tenants to serve.", source=str(self.config.seed_dir),
                             hint="Give SimConfig.seed_dir a folder of seed files or pass seed dicts in seeds.")
        self.directory = directory
        self.throttle = ThrottleModel(self.config.throttle or ThrottleConfig())
        self.faults = FaultInjector(self.config.faults or FaultConfig())
        ca = trustme.CA(organization_name="ccsync simulator test CA")
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._tmp = tempfile.mkdtemp(prefix="ccsync-sim-")
        self._ca_bundle = str(Path(self._tmp) / "ca.pem")
        ca.cert_pem.write_to_path(self._ca_bundle)
        try:
            for cloud in directory.clouds():
                server = CloudServer(cloud, directory, context, throttle=self.throttle, faults=self.faults,
                                     latency_ms=self.config.latency_ms, page_size=self.config.page_size,
                                     batch_seed=self.config.batch_seed,
                                     device_auto_approve_after=self.config.device_auto_approve_after,
                                     peer_base_url=self._peer_base_url)
                server.start()
                self.servers[cloud] = server
        except Exception:
            self.stop()
            raise
        self.control_token = secrets.token_urlsafe(32)
        for server in self.servers.values():
            server.control = self._control
        if self.config.sync_scheduler:
            from .syncengine import SyncScheduler
            self._sync = SyncScheduler(directory, self.config.sync_interval)
            self._sync.start()
        return self

    def _peer_base_url(self, cloud: str) -> str | None:
        """Base URL of another cloud's simulated server (discovery documents point there), if it runs."""
        server = self.servers.get(cloud)
        return server.base_url if server is not None and server._server is not None else None

    def stop(self) -> None:
        if self._sync is not None:
            self._sync.stop()
            self._sync = None
        for server in self.servers.values():
            server.stop()
        self.servers = {}
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- what clients need ------------------------------------------------------------------------------

    @property
    def ca_bundle(self) -> str:
        if not self._ca_bundle or not self.servers:
            raise ConfigError("the simulator is not running.", hint="Call start() or use 'with Simulator(...)'.")
        return self._ca_bundle

    def clouds(self) -> list[str]:
        return list(self.servers)

    def endpoints(self, cloud: str) -> SimEndpoints:
        """Login and Graph base URLs of a cloud's server (both the same loopback origin)."""
        from ..clouds import get_cloud

        name = get_cloud(cloud).name
        server = self.servers.get(name)
        if server is None:
            raise CloudError(f"the simulator has no {name} tenants, so it runs no {name} server.",
                             hint=f"Seed a tenant with \"cloud\": \"{name}\" or use one of: {', '.join(self.servers)}.")
        return SimEndpoints(server.base_url, server.base_url)

    def tenant(self, tenant_id_or_domain: str) -> "TenantState":
        if self.directory is None:
            raise ConfigError("the simulator is not running.", hint="Call start() first.")
        tenant = self.directory.find_tenant(tenant_id_or_domain)
        if tenant is None:
            raise InputError(f"the simulator has no tenant '{tenant_id_or_domain}'.",
                             hint="Use a seeded tenant's id or one of its domains.")
        return tenant

    def tenants(self) -> list["TenantState"]:
        return list(self.directory.tenants.values()) if self.directory else []

    # --- Entra's cross-tenant sync: cycles on demand and portal-only steps (syncengine.py, portal.py) -------

    def run_sync_cycle(self, tenant_id_or_domain: str | None = None, job_id: str | None = None) -> list[dict[str, Any]]:
        """Run one provisioning cycle now for every active sync job (of one source tenant, or one job)."""
        from .portal import run_cycles

        tenant = self.tenant(tenant_id_or_domain) if tenant_id_or_domain else None
        if self.directory is None:
            raise ConfigError("the simulator is not running.", hint="Call start() first.")
        return run_cycles(self.directory, tenant, job_id)

    def _control(self, request: Any) -> Any:
        """The HTTP face of the portal-only steps for ``ccsync sim portal`` (portal.py)."""
        import json

        from werkzeug.wrappers import Response

        from .portal import CONTROL_PATH, control
        if request.path != CONTROL_PATH or request.method != "POST":
            return Response(json.dumps({"error": {"code": "NotFound", "message": "No such control resource."}}),
                            status=404, content_type="application/json")
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            body = None
        status, out = control(self, self.control_token, request.headers, body)
        return Response(json.dumps(out), status=status, content_type="application/json")

    def portal_tick_cross_cloud_sync(self, tenant_id_or_domain: str, source_cloud: str) -> dict[str, Any]:
        """An admin of the TARGET tenant ticks "cross-cloud synchronization" for a source cloud in Microsoft
        cloud settings (portal only). Returns the service principal it creates."""
        from .portal import tick_cross_cloud_sync
        return tick_cross_cloud_sync(self.tenant(tenant_id_or_domain), source_cloud)

    def portal_create_cross_cloud_configuration(self, tenant_id_or_domain: str, display_name: str) -> dict[str, Any]:
        """An admin of the SOURCE tenant creates a sync configuration with the cross-cloud checkbox ticked
        (portal only). Returns its service principal."""
        from .portal import create_cross_cloud_configuration
        return create_cross_cloud_configuration(self.tenant(tenant_id_or_domain), display_name)

    def secret_for(self, tenant_id_or_domain: str, app_id: str | None = None) -> str:
        """The client secret of the tenant's (first, or named) app; random per start; never written anywhere."""
        tenant = self.tenant(tenant_id_or_domain)
        if not tenant.apps:
            raise InputError(f"tenant {tenant.tenant_id} has no app in its seed.", field="apps")
        app = tenant.apps[app_id.lower()] if app_id else next(iter(tenant.apps.values()))
        return app.secrets[0]

    def profile_entries(self) -> list[dict[str, Any]]:
        """One dict per seeded tenant app with Profile's fields (name, cloud, tenant, client_id, ... urls)."""
        entries = []
        used: set[str] = set()
        for tenant in self.tenants():
            ep = self.endpoints(tenant.cloud)
            for app in tenant.apps.values():
                base = re.sub(r"[^a-z0-9]+", "-", tenant.initial_domain.split(".")[0].lower()).strip("-") or "tenant"
                name = base if len(tenant.apps) == 1 else f"{base}-{re.sub(r'[^a-z0-9]+', '-', app.display_name.lower())}"
                while name in used:
                    name += "-2"
                used.add(name)
                entries.append({"name": name, "cloud": tenant.cloud, "tenant": tenant.tenant_id,
                                "client_id": app.app_id, "auth": "secret",
                                "secret_env": f"CCSYNC_{re.sub(r'[^A-Z0-9]', '_', name.upper())}_SECRET",
                                "login_url": ep.login_url, "graph_url": ep.graph_url, "ca_bundle": self.ca_bundle})
        return entries

    def profiles(self) -> list[Any]:
        """``toolkit.config.Profile`` objects for every seeded tenant's app, with endpoint overrides."""
        from ..config import Profile

        names = {f.name for f in dataclasses.fields(Profile)}
        return [Profile(**{k: v for k, v in e.items() if k in names}) for e in self.profile_entries()]

    def write_profiles(self, path: str | Path) -> Path:
        """Write a TOML config with every profile (secrets are NOT written; each names its secret_env)."""
        lines = ["# ccsync profiles for the running simulator (its ports and CA change on every start).", ""]
        for e in self.profile_entries():
            lines.append(f"[profiles.{e['name']}]")
            for key in ("cloud", "tenant", "client_id", "auth", "secret_env", "login_url", "graph_url", "ca_bundle"):
                value = str(e[key]).replace("\\", "\\\\").replace('"', '\\"')
                lines.append(f'{key} = "{value}"')
            lines.append("")
        from ..writefile import write_text

        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        return write_text(out, "\n".join(lines), private=False)   # no secret in it
