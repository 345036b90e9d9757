"""``ccsync demo``: click glue over ``toolkit.demo.run_demo`` (the scenario lives in the library): the options,
progress and warnings on stderr, the document or the tables (``demo_tables``) on stdout, the exit code."""

from __future__ import annotations

from typing import Any

import click

from .demo_tables import SYNC_TABLES, TENANT_TABLES, render_summary
from .options import seed_dir_option
from .output import common_options, emit, info, warn


@click.command("demo")
@seed_dir_option(help="Directory of tenant seed files (*.json). Default: the sample tenants in samples/tenants.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="demo-output", show_default=True,
              metavar="DIR", help="Where the demo writes demo.json, the snapshots, the workbooks and the plan.")
@common_options
@click.pass_context
def demo_command(ctx: click.Context, seed_dir: str | None, out_dir: str | None) -> None:
    """Start the simulated clouds in-process; for each seeded tenant sign in through msal and read its users
    and subscribed SKUs through the real Graph client; then run the cross-cloud scenario Contoso (commercial)
    -> Fabrikam Federal (GCC High): export both, check licence eligibility (workbook), plan the sync (plan file
    and workbook). Exits 1 if any step failed.

    Example: ccsync demo --out demo-output
    """
    from toolkit.demo import run_demo

    result = run_demo(seed_dir, out_dir, progress=info, warn=warn)
    if result.written is not None:
        info(f"Wrote {result.written}")
    doc = result.document

    def render(console: Any) -> None:
        for tenant in doc["tenants"]:
            name = tenant["profile"]
            who = {"profile": name, "cloud": tenant["cloud"], "graph": result.graph_urls[name]}
            for key, section in tenant["steps"].items():
                TENANT_TABLES[key](console, who, section)
        render_summary(console, doc["tenants"])
        if doc["sync"] is not None:
            for key, section in doc["sync"]["steps"].items():
                SYNC_TABLES[key](console, section)

    emit(doc, render)
    if result.failed:
        ctx.exit(1)
