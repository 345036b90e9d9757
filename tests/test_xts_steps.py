"""``ccsync xts enable --step``: only the named configuration steps run, against the simulated clouds.

What each run changed is read back from the simulator's own tenant state, not from ccsync's answer.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.simulator import Simulator
from toolkit.xts.steps import SELECTABLE_STEPS, STEP_BY_KEY, STEPS

from xts_cli import pair  # noqa: F401 - pytest fixture, requested by name
from xts_sim import SAME_CLOUD_TARGET, SOURCE, TARGET

GROUP_NAME = "Licensed staff"   # conftest.make_seed: users 2, 3, 4 and a nested group


def enable(sim: Simulator, tmp_path: Path, *args: str, target: str = SAME_CLOUD_TARGET) -> Any:
    config = sim.write_profiles(tmp_path / "config.toml")
    env = {p.secret_env: sim.secret_for(p.tenant, p.client_id) for p in sim.profiles()}
    env["CCSYNC_CACHE_DIR"] = os.environ["CCSYNC_CACHE_DIR"]
    def name(tenant: str) -> str:   # the tenant's first app: the one with the sync permissions (xts_sim)
        return next(e["name"] for e in sim.profile_entries() if e["tenant"] == tenant)

    return CliRunner().invoke(cli, ["xts", "enable", "--source", name(SOURCE), "--target", name(target), *args,
                                    "--config", str(config), "--output", "json"], env=env)


def test_a_step_whose_needed_step_is_not_done_is_refused_naming_it_and_nothing_is_written(pair, tmp_path):
    result = enable(pair, tmp_path, "--group", GROUP_NAME, "--step", "source.job", "--yes")
    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout)
    assert doc["error"] == "InputError"
    assert "source.configuration" in doc["message"] and "not selected" in doc["message"]
    assert "--step source.configuration" in doc["hint"]
    assert pair.tenant(SOURCE).enterprise_apps.service_principals == {}
    assert pair.tenant(SOURCE).cross_tenant.partner(SAME_CLOUD_TARGET) is None
    assert pair.tenant(SAME_CLOUD_TARGET).cross_tenant.partner(SOURCE) is None


def test_only_the_named_steps_run_then_a_needed_step_done_in_the_tenant_counts(pair, tmp_path):
    target_state = pair.tenant(SAME_CLOUD_TARGET).cross_tenant
    source_state = pair.tenant(SOURCE).cross_tenant
    # No --group: the scope is not among the named steps.
    first = enable(pair, tmp_path, "--step", "target.partner", "--step", "target.inboundSync", "--yes")
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert [c["step"] for c in doc["sent"]] == ["target.partner", "target.inboundSync"]
    assert doc["selectedSteps"] == ["target.partner", "target.inboundSync"]
    assert "other steps were not run" in doc["message"]
    assert target_state.partner(SOURCE) is not None and target_state.inbound_sync_allowed(SOURCE)
    assert not target_state.automatic_redemption(SOURCE, "inbound")
    assert source_state.partner(SAME_CLOUD_TARGET) is None
    assert pair.tenant(SOURCE).enterprise_apps.service_principals == {}

    # target.inboundRedemption needs target.partner, which is now done in the tenant: allowed alone.
    second = enable(pair, tmp_path, "--step", "target.inboundRedemption", "--yes")
    assert second.exit_code == 0, second.output
    assert [c["step"] for c in json.loads(second.stdout)["sent"]] == ["target.inboundRedemption"]
    assert target_state.automatic_redemption(SOURCE, "inbound")

    # A named step already as asked sends nothing.
    again = enable(pair, tmp_path, "--step", "target.partner", "--yes")
    assert again.exit_code == 0 and json.loads(again.stdout)["sent"] == []
    assert "Nothing changed" in again.stderr

    # The rest, without --step: the target's steps are not sent again.
    rest = enable(pair, tmp_path, "--group", GROUP_NAME, "--yes")
    assert rest.exit_code == 0, rest.output
    sent = [c["step"] for c in json.loads(rest.stdout)["sent"]]
    assert sent and all(step.startswith("source.") for step in sent) and sent[-1] == "source.start"
    assert source_state.automatic_redemption(SAME_CLOUD_TARGET, "outbound")


def test_what_if_with_steps_lists_only_their_calls_and_every_step_with_what_it_needs(pair, tmp_path):
    whole = json.loads(enable(pair, tmp_path, "--group", GROUP_NAME, "--what-if").stdout)
    listed = {s["key"]: s for s in whole["steps"]}
    # A same-cloud pair: no cloud settings steps; each step says what it needs and whether it has calls to make.
    assert "target.cloudSettings" not in listed and list(listed)[0] == "target.partner"
    assert listed["source.secrets"]["needs"] == ["source.job"] and listed["source.secrets"]["pending"] is True
    assert listed["source.start"]["needs"] == ["source.job", "source.secrets"]
    assert whole["selectedSteps"] is None
    narrowed = enable(pair, tmp_path, "--step", "source.partner", "--step", "source.outboundRedemption", "--what-if")
    assert narrowed.exit_code == 0, narrowed.output
    doc = json.loads(narrowed.stdout)
    assert {c["step"] for c in doc["calls"]} == {"source.partner", "source.outboundRedemption"}
    assert pair.tenant(SOURCE).cross_tenant.partner(SAME_CLOUD_TARGET) is None


def test_an_unknown_step_is_a_usage_error_listing_the_names(pair, tmp_path):
    result = enable(pair, tmp_path, "--step", "source.everything", "--yes")
    assert result.exit_code == 2
    assert "source.everything" in result.stderr and "source.partner" in result.stderr
    # Portal-only steps are the admin's: they cannot be named.
    portal = enable(pair, tmp_path, "--step", "source.crossCloudCheckbox", "--yes", target=TARGET)
    assert portal.exit_code == 2


def test_needs_name_earlier_selectable_steps_and_the_help_lists_every_step_in_order():
    order = [s.key for s in STEPS]
    for step in STEPS:
        for need in step.needs:
            assert need in SELECTABLE_STEPS and order.index(need) < order.index(step.key), (step.key, need)
    help_text = CliRunner().invoke(cli, ["xts", "enable", "--help"], terminal_width=200).output
    listed = re.search(r"documented order: (.*?) \(the", " ".join(help_text.split())).group(1)
    assert [name.strip() for name in listed.split(",")] == SELECTABLE_STEPS
    assert all(STEP_BY_KEY[name].title for name in SELECTABLE_STEPS)
