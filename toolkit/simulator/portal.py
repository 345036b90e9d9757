"""Admin-portal-only steps of cross-cloud synchronization, simulated as what they are: an admin's click in a
tenant's Entra admin center. Graph cannot make them (no documented property or API, graph-facts 1.4 / 2.4), so
ccsync's client cannot either; ``Simulator.portal_*`` and ``ccsync sim portal ...`` call these.
"""

from __future__ import annotations

import copy
from typing import Any

from ..clouds import get_cloud
from ..errors import InputError
from .enterprise_apps import PORTAL_CLOUD_NAMES

__all__ = ["tick_cross_cloud_sync", "create_cross_cloud_configuration", "run_cycles"]


def tick_cross_cloud_sync(tenant: Any, source_cloud: str) -> dict[str, Any]:
    """Target tenant > External Identities > Cross-tenant access settings > Microsoft cloud settings: tick the
    cloud and its "cross-cloud synchronization" checkbox (graph-facts 1.4 step 2). Ticking allows the cloud in
    allowedCloudEndpoints and creates the service principal holding User.ReadWrite.CrossCloud, User.Invite.All,
    Organization.Read.All and Policy.Read.All. Returns that service principal (Graph shape)."""
    cloud = get_cloud(source_cloud)
    endpoint = cloud.allowed_cloud_endpoint
    if endpoint == tenant.cross_tenant.own_cloud_endpoint:
        raise InputError(f"{cloud.display_name} is the tenant's own cloud: cross-cloud synchronization is for "
                         "another Microsoft cloud.", field="cloud",
                         hint="Name the SOURCE tenant's cloud, e.g. commercial for a GCC High target.")
    with tenant.lock:
        if endpoint not in tenant.cross_tenant.allowed_cloud_endpoints:
            tenant.cross_tenant.allowed_cloud_endpoints.append(endpoint)
        tenant.cross_tenant.cross_cloud_sync_from.add(endpoint)
        sp = tenant.enterprise_apps.add_cross_cloud_sync_principal(PORTAL_CLOUD_NAMES.get(endpoint, endpoint))
        return copy.deepcopy(sp)


def create_cross_cloud_configuration(tenant: Any, display_name: str) -> dict[str, Any]:
    """Source tenant > Cross-tenant synchronization > Configurations > New configuration, with "Setup
    cross-tenant synchronization across Microsoft clouds" ticked (graph-facts 1.4 step 5). Creates the same
    application and service principal as the template's instantiate, marked cross-cloud. Returns the service
    principal (Graph shape)."""
    name = (display_name or "").strip()
    if not name:
        raise InputError("a configuration needs a name.", field="name", hint="Give the configuration a name.")
    with tenant.lock:
        _, sp = tenant.enterprise_apps.instantiate_cts(name)
        tenant.enterprise_apps.cross_cloud_configurations.add(sp["id"])
        return copy.deepcopy(sp)


def run_cycles(directory: Any, tenant: Any | None = None, job_id: str | None = None) -> list[dict[str, Any]]:
    """Run one provisioning cycle now for every active job (of one tenant, or one job), whatever its schedule.
    A job quarantined for TooManyDeletes waits for start or restart, as in Entra. Returns the jobs' views."""
    from . import syncengine

    out = []
    for source in ([tenant] if tenant is not None else list(directory.tenants.values())):
        with source.lock:
            jobs = source.enterprise_apps.all_jobs()
        for sp_id, job in jobs:
            if job_id is not None and job.id != job_id:
                continue
            if job.schedule.get("state") != "Active":
                continue
            if (job.status.get("quarantine") or {}).get("reason") == "TooManyDeletes":
                continue
            view = syncengine.run_cycle(directory, source, sp_id, job.id)
            view["servicePrincipalId"] = sp_id
            view["tenantId"] = source.tenant_id
            out.append(view)
    return out


# --- the control channel: `ccsync sim portal ...` reaching a running `ccsync sim serve` ---------------------

CONTROL_PATH = "/_simulator/control"     # outside /v1.0: not Graph, and no Graph client can reach it by accident
CONTROL_HEADER = "X-Ccsync-Sim-Control"
ACTIONS = ("tick-cross-cloud-sync", "create-configuration", "run-cycle")


def control(simulator: Any, token: str, headers: Any, body: Any) -> tuple[int, dict[str, Any]]:
    """Answer one control request: (HTTP status, JSON body). The caller proves it holds the per-start control
    token (written only to the 0600 secrets file of ``ccsync sim serve``)."""
    import hmac

    given = str(headers.get(CONTROL_HEADER, ""))
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        return 401, {"error": {"code": "Unauthorized", "message": "Missing or wrong simulator control token."}}
    if not isinstance(body, dict) or body.get("action") not in ACTIONS:
        return 400, {"error": {"code": "BadRequest", "message": f"action must be one of {', '.join(ACTIONS)}."}}
    try:
        action = body["action"]
        if action == "tick-cross-cloud-sync":
            sp = simulator.portal_tick_cross_cloud_sync(str(body.get("tenant") or ""), str(body.get("cloud") or ""))
            return 200, {"action": action, "servicePrincipal": sp}
        if action == "create-configuration":
            sp = simulator.portal_create_cross_cloud_configuration(str(body.get("tenant") or ""),
                                                                   str(body.get("name") or ""))
            return 200, {"action": action, "servicePrincipal": sp}
        jobs = simulator.run_sync_cycle(body.get("tenant") or None, body.get("job") or None)
        return 200, {"action": action, "jobs": jobs}
    except Exception as exc:   # typed errors (InputError, CloudError) carry the message and hint the CLI shows
        hint = getattr(exc, "hint", None)
        return 400, {"error": {"code": type(exc).__name__, "message": str(exc), "hint": hint}}


CONTROL_ENV = ("CCSYNC_SIM_CONTROL_URL", "CCSYNC_SIM_CONTROL_TOKEN", "CCSYNC_SIM_CA_BUNDLE")


def control_environment(simulator: Any) -> dict[str, str]:
    """The variables ``ccsync sim serve`` writes to its 0600 secrets file so ``ccsync sim portal`` can reach it."""
    server = next(iter(simulator.servers.values()))
    return {"CCSYNC_SIM_CONTROL_URL": server.base_url + CONTROL_PATH,
            "CCSYNC_SIM_CONTROL_TOKEN": simulator.control_token, "CCSYNC_SIM_CA_BUNDLE": simulator.ca_bundle}


def send_control(action: str, fields: dict[str, Any], env: Any = None) -> dict[str, Any]:
    """Ask a running ``ccsync sim serve`` to perform a portal-only step (or a cycle). Raises ConfigError when the
    serve's environment is not loaded, InputError when the simulator refuses the step."""
    import os

    import requests

    from ..errors import ConfigError
    from ..transport import make_session

    env = os.environ if env is None else env
    url, token, ca = (env.get(name) for name in CONTROL_ENV)
    if not url or not token or not ca:
        raise ConfigError("no running simulator is known to this shell.",
                          hint="Start 'ccsync sim serve' and load its secrets file (the lines it prints: "
                               "'set -a; . <dir>/sim-secrets.env; set +a').")
    try:
        resp = make_session(ca).post(url, json={"action": action, **fields}, headers={CONTROL_HEADER: token},
                                     timeout=120)
    except requests.RequestException as exc:
        raise ConfigError(f"the simulator at {url} did not answer: {exc}",
                          hint="Is 'ccsync sim serve' still running? Its ports change on every start: "
                               "reload the secrets file it wrote.") from exc
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if resp.status_code == 401:
        raise ConfigError("the simulator refused the control token.",
                          hint="Reload the secrets file of the simulator that is running now.")
    if resp.status_code != 200:
        error = body.get("error") or {}
        raise InputError(str(error.get("message") or f"HTTP {resp.status_code}"), hint=error.get("hint"))
    return body
