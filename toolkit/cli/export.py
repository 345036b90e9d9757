"""``ccsync export``: a tenant's users, licences, SKUs, scoping-group members and domains, as a snapshot."""

from __future__ import annotations

from typing import Any

import click

from .options import profile_option
from .output import common_options, emit, key_value_table, new_table, add_rows, state


@click.command("export")
@profile_option(help="Profile of the tenant to export (see the README's profiles section).")
@click.option("--group", "-g", "groups", multiple=True, metavar="NAME_OR_ID",
              help="A scoping group whose direct members to export (repeatable).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write a snapshot folder: Graph's own JSON, Parquet and a manifest.")
@click.option("--overwrite", is_flag=True, help="Replace an existing snapshot folder at --out.")
@common_options
def export_command(profile_name: str, groups: tuple[str, ...], out_dir: str | None, overwrite: bool) -> None:
    """Export a tenant from Microsoft Graph: users with their licence fields (pages of 999, never one call per
    user), subscribed SKUs, scoping-group members, domains and organization; report the Graph calls made.

    Example: ccsync export --profile contoso --group CCS-Sync-Scope --out snapshots/contoso
    """
    from toolkit.config import get_profile
    from toolkit.export import export_tenant
    from toolkit.graph import GraphClient

    profile = get_profile(profile_name, state().config)
    client = GraphClient.from_profile(profile)
    data = export_tenant(client, groups=groups, out_dir=out_dir, cloud=profile.cloud, overwrite=overwrite)
    result = {"profile": profile_name, "tenantId": data.tenant_id, "displayName": data.display_name,
              "cloud": data.cloud, "exportedAt": data.exported_at, "counts": data.counts(),
              "graphCalls": client.stats.to_dict(), "snapshot": data.stats.get("snapshot"),
              "warnings": data.stats.get("warnings", [])}

    def render(console: Any) -> None:
        console.print(key_value_table([("tenant", f"{data.display_name} ({data.tenant_id})"),
                                       ("cloud", data.cloud), ("exported at", data.exported_at),
                                       ("snapshot", result["snapshot"] or "(not written: use --out)"),
                                       ("Graph requests", result["graphCalls"].get("requests"))],
                                      title="Export"))
        console.print(add_rows(new_table("frame", "rows"), sorted(result["counts"].items())))
        for w in result["warnings"]:
            console.print(f"warning: {w}")

    emit(result, render)
