"""``ccsync plan``: a reviewable, deterministic plan of what a sync would do to every user."""

from __future__ import annotations

from typing import Any

import click

from .. import defaults

from .options import (catalog_option, cloud_option, deletion_threshold_option, link_attribute_option, mapping_option,
                      report_option, scope_option, tenant_option)
from .output import add_rows, common_options, emit, info, key_value_table, new_table, warn
from .tenants import open_tenant, records


@click.command("plan")
@tenant_option("source")
@tenant_option("target")
@cloud_option("source")
@cloud_option("target")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), metavar="PLAN.json",
              help="Where to write the plan file (JSON, diffable, with an integrity hash).")
@mapping_option()
@scope_option(help="Scoping file: 'group NAME' lines and 'filter' blocks; default: every internal member.")
@click.option("--on-deprovision", type=click.Choice(["delete", "disable"]), default=defaults.ON_DEPROVISION, show_default=True,
              help="What happens in the target when a user leaves scope or is deleted: soft delete (Entra's "
                   "behaviour) or disable.")
@deletion_threshold_option(help="Deletes and disables above this number are held (Entra's accidental-deletion "
                                "default).")
@click.option("--allow-deletes", type=click.IntRange(min=0), default=defaults.ALLOW_DELETES, show_default=True,
              help="Explicitly allow this many deletes/disables above the threshold.")
@link_attribute_option(help="The target extension attribute holding ccsync's durable link to the source user.")
@click.option("--create-as", type=click.Choice(["invite", "member"]), default=defaults.CREATE_AS, show_default=True,
              help="invite: external members through the invitation API (cross-tenant); member: POST /users "
                   "(in-tenant migration; the mapping must give userPrincipalName, mailNickname, displayName).")
@click.option("--target-license", "target_licenses", multiple=True, metavar="SKU_ID",
              help="Assign this target SKU to every created user (repeatable).")
@click.option("--target-group", "target_groups", multiple=True, metavar="GROUP_ID",
              help="Add every created user to this target group (repeatable).")
@click.option("--adopt", is_flag=True,
              help="Take over existing target users matched by mail or UPN (ccsync writes its link and may later "
                   "disable or delete them). Without it such matches are conflicts. Users of Entra's own sync "
                   "are never adopted.")
@click.option("--expect-source", metavar="TENANT",
              help="Refuse to plan unless the source is this tenant (tenant ID or verified domain).")
@click.option("--expect-target", metavar="TENANT",
              help="Refuse to plan unless the target is this tenant (tenant ID or verified domain).")
@click.option("--allow-older-target", is_flag=True,
              help="Plan even if the target snapshot is more than a day older than the source's.")
@catalog_option(help="Microsoft's newest licensing CSV for the cross-cloud licence check.")
@report_option(help="Write the Excel plan workbook (summary, a sheet per operation, attribute changes).")
@click.option("--confirm-empty-scope", is_flag=True, default=False,
              help="Plan even when the scope matches no source user although the target has users linked to this "
                   "source (every one of them would be deprovisioned). Without it, such a plan is refused.")
@click.option("--show-default-mapping", is_flag=True, help="Print the default mapping file and exit.")
@click.option("--engine", type=click.Choice(["direct", "entra"]), default=None,
              help="direct (default): ccsync writes target users itself. entra: predict what Entra's own "
                   "cross-tenant sync job will do (implied by --job or --schema).")
@click.option("--job", "job_profile", metavar="SOURCE_PROFILE",
              help="entra engine: read the live job (schema, assigned groups, settings, provisioning-log links) "
                   "through this source-tenant profile.")
@click.option("--job-id", metavar="ID", help="entra engine: the job, when the configuration has several.")
@click.option("--configuration", "configuration", metavar="NAME",
              help="entra engine: the configuration's name, when the source tenant has several.")
@click.option("--schema", "schema_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="entra engine, offline: the job's schema as saved from Graph or the portal's schema editor.")
@click.option("--assigned-group", "assigned_groups", multiple=True, metavar="GROUP",
              help="entra engine, offline: a group assigned to the configuration (name or id; repeatable).")
@click.option("--sync-all", is_flag=True, help="entra engine, offline: the job syncs all users (SyncAll).")
@click.option("--provisioning-log", type=click.Path(dir_okay=False), metavar="FILE",
              help="entra engine, offline: the job's provisioning logs (Graph JSON), for the users it has linked.")
@common_options
def plan_command(source: str | None, target: str | None, source_cloud: str | None, target_cloud: str | None,
                 out_path: str | None, mapping_file: str | None,
                 scope_file: str | None, on_deprovision: str, deletion_threshold: int, allow_deletes: int,
                 link_attribute: str, create_as: str, target_licenses: tuple[str, ...],
                 target_groups: tuple[str, ...], adopt: bool, expect_source: str | None, expect_target: str | None,
                 allow_older_target: bool, catalog_csv: str | None,
                 report_path: str | None, confirm_empty_scope: bool, show_default_mapping: bool,
                 engine: str | None = None, job_profile: str | None = None, job_id: str | None = None,
                 configuration: str | None = None, schema_file: str | None = None,
                 assigned_groups: tuple[str, ...] = (), sync_all: bool = False,
                 provisioning_log: str | None = None) -> None:
    """Plan a sync from a source to a target tenant: create, update, disable, delete, conflict or blocked, per
    user, with the attribute changes old -> new. Nothing is written to any tenant; review the plan, then run
    'ccsync apply'. The same inputs give a byte-identical plan file.

    Example: ccsync plan --source snapshots/contoso --target snapshots/fabrikam --scope samples/scope.txt
    --out plan.json --report plan.xlsx

    With --job SOURCE_PROFILE (engine entra) the plan predicts the next cycle of Entra's own sync job instead:
    create, update, disable, soft delete, skip, fail (with Entra's reason) or cannot predict, per user; with
    --scope it also plans the group changes that reach that scope, and predicts the cycle after them.

    Example: ccsync plan --job contoso --target fabrikamfederal --scope scope.txt --out plan.json
    """
    from toolkit.plan.rules import default_mapping, load_mapping, load_scope

    if show_default_mapping:
        click.echo(default_mapping().text, nl=False)
        return
    if engine == "entra" or job_profile or schema_file:
        if not (target and out_path):
            raise click.UsageError("--target and --out are required.")
        if not (job_profile or (schema_file and source)):
            raise click.UsageError("the entra engine reads the job: give --job SOURCE_PROFILE, or --schema FILE "
                                   "with --source (offline).")
        _plan_entra(source=source, target=target, out_path=out_path, scope_file=scope_file,
                    job_profile=job_profile, job_id=job_id, configuration=configuration,
                    schema_file=schema_file, assigned_groups=assigned_groups, sync_all=sync_all,
                    provisioning_log=provisioning_log, catalog_csv=catalog_csv, report_path=report_path,
                    deletion_threshold=(deletion_threshold if click.get_current_context().get_parameter_source(
                        "deletion_threshold") == click.core.ParameterSource.COMMANDLINE else None))
        return
    if not (source and target and out_path):
        raise click.UsageError("--source, --target and --out are required (or use --show-default-mapping).")
    from toolkit.licensing import Catalog
    from toolkit.plan import PlanOptions, plan_sync
    from toolkit.report import write_plan_workbook

    mapping = load_mapping(mapping_file) if mapping_file else default_mapping()
    scope = load_scope(scope_file) if scope_file else None
    options = PlanOptions(on_deprovision=on_deprovision, deletion_threshold=deletion_threshold,
                          allow_deletes=allow_deletes, link_attribute=link_attribute, create_as=create_as,
                          allow_older_target=allow_older_target, target_licenses=target_licenses,
                          target_groups=target_groups, adopt=adopt, confirm_empty_scope=confirm_empty_scope)
    src = open_tenant(source, groups=scope.groups if scope else (), role="source tenant", cloud=source_cloud,
                      cloud_flag="--source-cloud")
    tgt = open_tenant(target, role="target tenant", cloud=target_cloud, cloud_flag="--target-cloud")
    catalog = Catalog.from_official_csv(catalog_csv) if catalog_csv else None
    plan = plan_sync(src, tgt, mapping=mapping, scope=scope, options=options, catalog=catalog,
                     expect_source=expect_source, expect_target=expect_target)
    saved = plan.save(out_path)
    info(f"Wrote the plan to {saved}")
    if report_path:
        info(f"Wrote {write_plan_workbook(report_path, plan, plan_file=str(saved))}")
    counts = plan.counts()
    if counts["held"]:
        warn(f"{counts['held']} deletes/disables exceed the deletion threshold ({deletion_threshold}) and are "
             "held: review them, then plan again with --allow-deletes N to release them.")
    data = {**plan.summary(), "planFile": str(saved), "report": report_path,
            "operations": records(plan.to_frame())}

    def render(console: Any) -> None:
        console.print(key_value_table([
            ("source", f"{src.display_name} ({src.tenant_id}, {src.cloud})"),
            ("target", f"{tgt.display_name} ({tgt.tenant_id}, {tgt.cloud})"),
            ("pair", plan.header["pair"]["kind"]), ("plan file", str(saved))], title="Sync plan"))
        console.print(add_rows(new_table("operation", "users"),
                               [(k, v) for k, v in counts.items() if k != "total"]))
        problems = plan.ops[plan.ops["kind"].isin(["conflict", "blocked"])].head(20)
        if len(problems):
            console.print(add_rows(new_table("kind", "source user", "reason", title="Needs attention"),
                                   problems[["kind", "sourceUpn", "reason"]].values.tolist()))

    emit(data, render)


def _plan_entra(*, source: str | None, target: str, out_path: str, scope_file: str | None,
                job_profile: str | None, job_id: str | None, configuration: str | None,
                schema_file: str | None, assigned_groups: tuple[str, ...], sync_all: bool,
                provisioning_log: str | None, catalog_csv: str | None, report_path: str | None,
                deletion_threshold: int | None) -> None:
    """The entra engine: read the job, plan scope changes (--scope), predict the cycle, write plan and workbook."""
    from toolkit.licensing import Catalog
    from toolkit.plan.entra_job import offline_job, read_job
    from toolkit.plan.entra_plan import plan_entra
    from toolkit.plan.rules import load_scope
    from toolkit.report.entra_plan import write_entra_plan_workbook

    scope = load_scope(scope_file) if scope_file else None
    if job_profile:
        from toolkit.config import get_profile
        from toolkit.xts.calls import TenantSide

        from .output import state

        profile = get_profile(job_profile, state().config)
        info(f"Reading the sync job through profile '{profile.name}' ({profile.cloud}, {profile.tenant})")
        snap = read_job(TenantSide.from_profile("source", profile), job_id=job_id, name=configuration)
    else:
        snap = offline_job(schema_file, assigned_groups=assigned_groups, sync_all=sync_all,
                           deletion_threshold=deletion_threshold, provisioning_log=provisioning_log, job_id=job_id)
    groups = tuple(snap.job.assigned_groups) + (scope.groups if scope else ())
    src = open_tenant(source or job_profile, groups=groups, role="source tenant")
    tgt = open_tenant(target, role="target tenant")
    catalog = Catalog.from_official_csv(catalog_csv) if catalog_csv else None
    made = plan_entra(snap, src, tgt, scope, catalog=catalog)
    pred, plan, changes, notes = made.prediction, made.plan, made.scope_changes, made.notes
    saved = plan.save(out_path)
    info(f"Wrote the plan to {saved}")
    if report_path:
        info(f"Wrote {write_entra_plan_workbook(report_path, plan, schema_frame=pred.schema.portal_frame(), plan_file=str(saved))}")
    for note in notes:
        warn(note)
    for problem in pred.schema.problems:
        warn(problem)
    counts = plan.counts()
    cycle = plan.header["cycle"]
    if cycle["quarantine"]:
        warn(f"{cycle['deletesAndDisables']} deletes and disables exceed the job's accidental-deletion threshold "
             f"({plan.header['options']['deletionThreshold']}): the job will quarantine (TooManyDeletes) and "
             "hold them until an admin allows them ('ccsync xts restart --force-deletes').")
    data = {**plan.summary(), "engine": "entra", "job": plan.header["job"], "cycle": cycle,
            "scopeChanges": changes, "planFile": str(saved), "report": report_path,
            "operations": records(plan.to_frame())}

    def render(console: Any) -> None:
        console.print(key_value_table([
            ("source", f"{src.display_name} ({src.tenant_id}, {src.cloud})"),
            ("target", f"{tgt.display_name} ({tgt.tenant_id}, {tgt.cloud})"),
            ("job", plan.header["job"]["id"] or "(offline schema)"), ("schema", plan.header["schema"]["sha256"]),
            ("scope changes", len(changes)), ("plan file", str(saved))], title="Entra sync job: next cycle"))
        console.print(add_rows(new_table("outcome", "users"),
                               [(k, v) for k, v in counts.items() if k != "total"]))
        problems = plan.ops[plan.ops["kind"].isin(["fail", "unknown"])].head(20)
        if len(problems):
            console.print(add_rows(new_table("kind", "source user", "reason", title="Needs attention"),
                                   problems[["kind", "sourceUpn", "reason"]].values.tolist()))

    emit(data, render)
