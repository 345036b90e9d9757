"""``ccsync demo``: every seeded tenant read through msal and the real Graph client, as one JSON document."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.simulator import DEFAULT_SEED_DIR, Simulator

SEEDS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in Path(DEFAULT_SEED_DIR).glob("*.json")}


@pytest.fixture()
def recorded_secrets(monkeypatch):
    """Every secret the simulator hands out during the test, to check none is ever shown."""
    seen: list[str] = []
    original = Simulator.secret_for

    def recording(self, *args, **kwargs):
        secret = original(self, *args, **kwargs)
        seen.append(secret)
        return secret

    monkeypatch.setattr(Simulator, "secret_for", recording)
    return seen


@pytest.fixture()
def token_dir(tmp_path, monkeypatch):
    folder = tmp_path / "real-token-cache"
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(folder))
    return folder


def test_demo_json_reads_every_seeded_tenant(tmp_path, recorded_secrets, token_dir):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["demo", "--output", "json", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["failed"] == []
    by_cloud = {t["cloud"]: t for t in doc["tenants"]}
    assert set(by_cloud) == {seed["cloud"] for seed in SEEDS.values()}
    for seed in SEEDS.values():
        tenant = by_cloud[seed["cloud"]]
        steps = tenant["steps"]
        assert steps["signIn"]["organization"] == seed["organization"]["displayName"]
        assert steps["users"]["count"] == len(seed["users"])
        assert len(steps["users"]["sample"]) == min(5, len(seed["users"]))
        assert {s["skuPartNumber"] for s in steps["subscribedSkus"]["skus"]} == \
            {s["skuPartNumber"] for s in seed["subscribedSkus"]}
        assert tenant["graphCalls"]["requests"] >= 3
        saved = json.loads(Path(steps["users"]["savedTo"]).read_text(encoding="utf-8"))
        assert len(saved["value"]) == len(seed["users"])  # Graph's own collection shape
    assert doc["totals"]["users"] == sum(len(s["users"]) for s in SEEDS.values())
    assert json.loads((out / "demo.json").read_text(encoding="utf-8")) == doc
    # The cross-cloud scenario: snapshots, eligibility workbook, plan file and workbook.
    sync = doc["sync"]["steps"]
    assert sync["export"]["source"]["cloud"] == "commercial" and sync["export"]["target"]["cloud"] == "gcch"
    assert sync["eligibility"]["pair"]["kind"] == "cross-cloud" and sync["eligibility"]["eligible"] > 0
    assert sync["plan"]["counts"]["create"] > 0 and sync["plan"]["counts"]["blocked"] > 0
    for name in ("eligibility.xlsx", "plan.xlsx", "plan.json"):
        assert (out / name).is_file()
    # Secrets are used, never shown; simulated tokens stay out of the admin's token cache.
    assert recorded_secrets and not any(s in result.stdout + result.stderr for s in recorded_secrets)
    assert not token_dir.exists() and os.environ["CCSYNC_CACHE_DIR"] == str(token_dir)


def test_demo_table_mode_prints_summary_and_progress_on_stderr(token_dir, tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    assert "Summary" in result.stdout and "subscribed SKUs" in result.stdout
    for seed in SEEDS.values():
        assert seed["organization"]["displayName"] in result.stdout
    assert "signing in" in result.stderr and "signing in" not in result.stdout


def test_demo_reports_a_tenant_whose_app_lacks_a_permission_and_exits_1(tmp_path, token_dir):
    # Put the read-only app first: the demo signs in with it and Graph refuses /subscribedSkus (403).
    seed = json.loads(json.dumps(SEEDS["commercial"]))
    reader = [a for a in seed["apps"] if a["roles"] == ["User.Read.All"]]
    assert reader, "the commercial seed should carry a read-only app"
    seed["apps"] = reader + [a for a in seed["apps"] if a not in reader]
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "commercial.json").write_text(json.dumps(seed), encoding="utf-8")
    (seeds / "gcch.json").write_text(json.dumps(SEEDS["gcch"]), encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", "--seed-dir", str(seeds), "-o", "json", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    failed = next(t for t in doc["tenants"] if t["cloud"] == "commercial")
    assert doc["failed"] == [failed["profile"]]
    assert failed["error"]["status"] == 403 and failed["error"]["url"].endswith("/v1.0/subscribedSkus")
    assert failed["steps"]["users"]["count"] == len(seed["users"])  # earlier steps kept
    assert next(t for t in doc["tenants"] if t["cloud"] == "gcch").get("error") is None
    assert "Warning:" in result.stderr and "403" in result.stderr


def test_demo_with_an_empty_seed_dir_is_an_input_error(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--seed-dir", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith("Error:")


def test_the_demo_library_reads_the_tenants_without_printing(capsys, token_dir, recorded_secrets):
    # What 'ccsync demo' and Start-CcsDemo call: progress comes back through the callback, nothing is printed,
    # and without an output folder nothing is written and the scenario (which writes files) does not run.
    from toolkit.demo import run_demo

    progress: list[str] = []
    result = run_demo(out_dir=None, progress=progress.append)
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err == ""
    assert any("signing in" in m for m in progress)
    doc = result.document
    assert doc["sync"] is None and doc["failed"] == [] and result.written is None
    assert doc["totals"]["users"] == sum(len(s["users"]) for s in SEEDS.values())
    assert set(result.graph_urls) == {t["profile"] for t in doc["tenants"]}
    assert all(url.startswith("https://127.0.0.1:") for url in result.graph_urls.values())
    assert json.loads(json.dumps(doc)) == doc                  # already JSON values, as 'demo.json' holds them
    assert recorded_secrets and not any(s in json.dumps(doc) for s in recorded_secrets)
    assert not token_dir.exists() and os.environ["CCSYNC_CACHE_DIR"] == str(token_dir)
