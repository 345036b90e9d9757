"""Commands that read a tenant from Graph JSON an admin saved (Graph Explorer, Invoke-MgGraphRequest): the cloud is
inferred from the Graph host in the @odata annotations where it tells the clouds apart, else named by a flag."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.export import load_tenant

EXAMPLES = Path(__file__).parent / "fixtures" / "graph-examples"   # Microsoft's published examples (SOURCES.md)


def saved_folder(tmp_path: Path, host: str | None = None) -> Path:
    folder = tmp_path / "saved"
    folder.mkdir()
    for name, out in (("user-list-assignedlicenses.json", "users.json"), ("subscribedsku-list.json",
                                                                         "subscribedSkus.json")):
        text = (EXAMPLES / name).read_text(encoding="utf-8")
        if host:
            text = text.replace("https://graph.microsoft.com/", f"https://{host}/")
        (folder / out).write_text(text, encoding="utf-8")
    return folder


def run(*args):
    return CliRunner().invoke(cli, [*map(str, args)])


def test_graph_microsoft_com_serves_two_clouds_so_the_error_names_the_flag(tmp_path):
    folder = saved_folder(tmp_path)
    result = run("eligibility", "--source", folder, "--target-cloud", "gcch", "-o", "json")
    assert result.exit_code == 2
    assert "Unknown cloud 'unknown'" not in result.output
    doc = json.loads(result.stdout)
    assert "--source-cloud" in doc["hint"] and "graph.microsoft.com" in doc["message"]
    named = run("eligibility", "--source", folder, "--source-cloud", "commercial", "--target-cloud", "gcch",
                "-o", "json")
    assert named.exit_code in (0, 1), named.output               # 1: users not eligible, a finding, not an error
    assert json.loads(named.stdout)["summary"]


def test_a_gcc_high_graph_host_is_inferred(tmp_path):
    folder = saved_folder(tmp_path, host="graph.microsoft.us")
    assert load_tenant(folder).cloud == "gcch"
    result = run("eligibility", "--source", folder, "--target-cloud", "commercial", "-o", "json")
    assert result.exit_code in (0, 1), result.output


def test_plan_takes_source_and_target_cloud_flags(tmp_path):
    src = saved_folder(tmp_path)
    tgt = tmp_path / "target"
    tgt.mkdir()
    shutil.copy(EXAMPLES / "user-list-assignedlicenses.json", tgt / "users.json")
    (tgt / "organization.json").write_text(json.dumps({"value": [{"id": "22222222-2222-4222-8222-222222222222",
                                                                 "displayName": "Target"}]}), encoding="utf-8")
    refused = run("plan", "--source", src, "--source-cloud", "commercial", "--target", tgt, "--out",
                  tmp_path / "p.json")
    assert refused.exit_code == 2 and "--target-cloud" in refused.output
    ok = run("plan", "--source", src, "--source-cloud", "commercial", "--target", tgt, "--target-cloud", "gcc",
             "--out", tmp_path / "p.json", "-o", "json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["pair"]["kind"] == "same-cloud"
