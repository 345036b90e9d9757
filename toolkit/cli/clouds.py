"""``ccsync clouds``: the national clouds and supported pairs; ``ccsync clouds detect``: a tenant's cloud."""

from __future__ import annotations

from typing import Any

import click

from toolkit.clouds import CLOUDS, PAIRS, detect_cloud

from .output import add_rows, common_options, emit, key_value_table, new_table, warn


def clouds_document() -> dict[str, Any]:
    """{"clouds": [Cloud.to_dict()], "pairs": [CloudPair.to_dict()]}."""
    return {"clouds": [c.to_dict() for c in CLOUDS.values()], "pairs": [p.to_dict() for p in PAIRS]}


def _render_clouds(console: Any) -> None:
    clouds = new_table("name", "login host", "graph host", "scope", "portals", "allowedCloudEndpoints",
                       title="Microsoft clouds (--output json gives full URLs)")
    add_rows(clouds, [(c.name, c.login_host, c.graph_host, c.graph_scope,
                       f"{c.entra_portal_host}\n{c.azure_portal_host}", c.allowed_cloud_endpoint)
                      for c in CLOUDS.values()])
    console.print(clouds)
    pairs = new_table("source", "target", "kind", "note", title="Supported synchronization pairs")
    add_rows(pairs, [(p.source, p.target, p.kind, p.note) for p in PAIRS])
    console.print(pairs)


@click.group("clouds", invoke_without_command=True)
@common_options
@click.pass_context
def clouds_group(ctx: click.Context) -> None:
    """List the Microsoft clouds (sign-in, Graph, scope, portals, allowedCloudEndpoints value) and the
    cloud pairs Entra cross-tenant synchronization supports.

    Example: ccsync clouds --output json
    """
    if ctx.invoked_subcommand is None:
        emit(clouds_document(), _render_clouds)


@clouds_group.command("detect")
@click.argument("tenant")
@click.option("--login-url", "login_urls", multiple=True, metavar="URL",
              help="Sign-in authority to ask instead of the global and China ones (repeatable; "
                   "e.g. the simulator's login URL).")
@click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False), default=None, metavar="PATH",
              help="PEM file of CA certificates to trust for these requests (e.g. the simulator's CA).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=15.0, show_default=True, metavar="SECONDS",
              help="Seconds to wait for each authority to answer.")
@common_options
@click.pass_context
def detect_command(ctx: click.Context, tenant: str, login_urls: tuple[str, ...], ca_bundle: str | None,
                   timeout: float) -> None:
    """Tell which Microsoft cloud TENANT (a tenant ID or verified domain) lives in, from its public
    OpenID configuration. Needs no credentials. Exits 1 when the answer names no cloud ccsync knows.

    Example: ccsync clouds detect contoso.onmicrosoft.com
    """
    from toolkit.transport import make_session

    from .discovery import openid_fetcher

    with make_session(ca_bundle) as session:
        detection = detect_cloud(tenant, openid_fetcher(session, timeout), list(login_urls) or None)
    data = detection.to_dict()
    data["displayName"] = CLOUDS[detection.cloud].display_name if detection.cloud else None
    if detection.note:
        warn(detection.note)

    def render(console: Any) -> None:
        rows = [("tenant", detection.tenant), ("tenant ID", detection.tenant_id),
                ("cloud", f"{detection.cloud} ({data['displayName']})" if detection.cloud else "unknown")]
        rows += [(key, value) for key, value in detection.evidence.items()]
        console.print(key_value_table(rows, title="Tenant cloud"))

    emit(data, render)
    if detection.cloud is None:
        ctx.exit(1)
