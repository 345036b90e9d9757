"""Issue 15, classes 4 and 5: inputs that crashed, and inputs that were wrongly accepted.

Each is a clear ``Error:`` naming the file (and line where there is one), exit code 2, never a traceback and never
a plan built on a misread input.
"""

from __future__ import annotations

import codecs
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.errors import InputError
from toolkit.export import load_tenant
from toolkit.plan.rules import load_mapping, load_scope, parse_mapping, parse_scope

from security_helpers import SOURCE_TID, source_users, write_pair


def run(*args):
    return CliRunner().invoke(cli, [*map(str, args)])


def _no_traceback(result):
    assert "Traceback" not in result.output and "Internal error" not in result.stderr, result.output


# --- Graph JSON and snapshots ----------------------------------------------------------------------------------

def _nested(depth: int) -> str:
    return '{"value": [{"id": "a", "x": ' + "[" * depth + "]" * depth + "}]}"


@pytest.mark.parametrize("content", [
    _nested(100_000).encode(),                                           # RecursionError in json.loads before
    _nested(200).encode(),                                               # deep, but below Python's limit
    json.dumps({"value": [{"id": "a"}]}).encode("utf-16-le"),            # UTF-16 without a BOM
    b'{"value": [{"id": "caf\xe9"}]}',                                   # Latin-1, not UTF-8
    b"\x00\x01\x02binary",
])
def test_unreadable_users_files_are_errors_naming_the_file(tmp_path, content):
    users = tmp_path / "users.json"
    users.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_tenant(users)
    assert str(users) in str(info.value)


def test_utf16_with_bom_is_read(tmp_path):
    users = tmp_path / "users.json"
    users.write_bytes(codecs.BOM_UTF16_LE + json.dumps({"value": source_users(2)}).encode("utf-16-le"))
    assert len(load_tenant(users).users) == 2


def test_duplicate_user_ids_with_different_content_are_refused(tmp_path):
    users = source_users(3)
    users.append(dict(users[1], displayName="Impostor"))
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"value": users}))
    with pytest.raises(InputError, match="s1 appears more than once") as info:
        load_tenant(path)
    assert str(path) in str(info.value) or "users" in str(info.value)
    users[-1] = dict(users[1])                   # an identical copy (overlapping saved pages) is harmless
    path.write_text(json.dumps({"value": users}))
    assert len(load_tenant(path).users) == 3


def test_duplicate_user_ids_in_a_snapshots_frames_are_refused(tmp_path):
    """A forged snapshot: a duplicated row in the users Parquet, hashes recomputed in the manifest."""
    import pandas as pd
    from toolkit.export.snapshot import frame_from_parquet, frame_to_parquet, sha256_file
    src, _ = write_pair(tmp_path)
    pq = src / "parquet" / "users.parquet"
    frame = frame_from_parquet(pq)
    frame_to_parquet(pd.concat([frame, frame.iloc[[1]]], ignore_index=True), pq)
    manifest = json.loads((src / "manifest.json").read_text())
    manifest["files"]["parquet/users.parquet"].update(sha256=sha256_file(pq), rows=len(frame) + 1)
    (src / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="more than once: s1") as info:
        load_tenant(src)
    assert str(src) in str(info.value)


@pytest.mark.parametrize("extra", ["graph/users-2.json", "graph/group-members/x.json", "parquet/extra.parquet"])
def test_a_snapshot_file_the_manifest_does_not_list_is_refused(tmp_path, extra):
    src, _ = write_pair(tmp_path)
    (src / extra).parent.mkdir(parents=True, exist_ok=True)
    (src / extra).write_text('{"value": [{"id": "planted"}]}')
    with pytest.raises(InputError, match="not in its manifest") as info:
        load_tenant(src)
    assert extra.split("/")[-1] in str(info.value)


def test_a_snapshot_missing_an_unlisted_users_file_is_not_read_unverified(tmp_path):
    src, _ = write_pair(tmp_path)
    manifest = json.loads((src / "manifest.json").read_text())
    del manifest["files"]["graph/users.json"]
    (src / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="not in its manifest"):
        load_tenant(src)


@pytest.mark.parametrize("files", [["graph/users.json"], {"../../etc/passwd": {"sha256": "x"}},
                                   {"/etc/passwd": {"sha256": "x"}}, {"graph/users.json": "abc"}])
def test_a_manifest_with_a_bad_file_list_is_refused(tmp_path, files):
    src, _ = write_pair(tmp_path)
    manifest = json.loads((src / "manifest.json").read_text())
    manifest["files"] = files
    (src / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="manifest"):
        load_tenant(src)


def test_a_manifest_whose_tenant_is_not_its_organization_is_refused(tmp_path):
    src, tgt = write_pair(tmp_path)
    manifest = json.loads((src / "manifest.json").read_text())
    manifest["tenantId"] = "33333333-3333-4333-8333-333333333333"
    (src / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="organization JSON is tenant " + SOURCE_TID):
        load_tenant(src)
    result = run("plan", "--source", src, "--target", tgt, "--out", tmp_path / "p.json")
    assert result.exit_code == 2 and "Error:" in result.stderr and "manifest.json" in result.stderr


@pytest.mark.parametrize("manifest", ["[]", '"text"', _nested(100_000), '{"format": "ccsync-snapshot/1", '
                                                                          '"files": {}, "counts": []}'])
def test_a_malformed_manifest_is_an_error(tmp_path, manifest):
    src, _ = write_pair(tmp_path)
    (src / "manifest.json").write_text(manifest)
    with pytest.raises(InputError):
        load_tenant(src)


# --- mapping and scope files -----------------------------------------------------------------------------------

@pytest.mark.parametrize("data,line", [(b"displayName = [displayName]\njobTitle = \"Ing\xe9nieur\"\n", 2),
                                       (b"\xff\xfe\x00broken", 1),
                                       (b"# ok\n# ok\ndepartment = [department]\n\x80\n", 4)])
def test_mapping_with_non_utf8_bytes_names_file_and_line(tmp_path, data, line):
    path = tmp_path / "m.map"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        load_mapping(path)
    assert str(path) in str(info.value) and f"row {line}" in str(info.value)


@pytest.mark.parametrize("target", ["displayname", "passwordProfile", "onPremisesExtensionAttributes",
                                    "onPremisesExtensionAttributes.extensionAttribute16", "nickname", "userprincipalname"])
def test_mapping_to_an_unknown_target_attribute_is_refused(target):
    with pytest.raises(InputError, match="not a user attribute ccsync can write") as info:
        parse_mapping(f"displayName = [displayName]\n{target} = [displayName]\n", "m.map")
    assert "row 2" in str(info.value)


@pytest.mark.parametrize("attr,option", [("extensionAttribute15", None), ("extensionAttribute3", "extensionAttribute3")])
def test_mapping_that_writes_the_link_attribute_is_refused(tmp_path, attr, option):
    src, tgt = write_pair(tmp_path)
    mapping = tmp_path / "m.map"
    mapping.write_text(f"displayName = [displayName]\nonPremisesExtensionAttributes.{attr} = [id]\n")
    args = ["plan", "--source", src, "--target", tgt, "--out", tmp_path / "p.json", "--mapping", mapping]
    if option:
        args += ["--link-attribute", option]
    result = run(*args)
    _no_traceback(result)
    assert result.exit_code == 2 and "link" in result.stderr and "row 2" in result.stderr
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize("text", ['filter Sales\n    department EQUALS "Sales\n',
                                  'filter Sales\n    department EQUALS Sales"\n',
                                  'filter Sales\n    department EQUALS "Sa"les"\n',
                                  'group "CCS-Sync-Scope\n',
                                  'filter X\n    department INCLUDES "a\n'])
def test_scope_with_an_unbalanced_quote_is_refused(tmp_path, text):
    with pytest.raises(InputError, match="quote"):
        parse_scope(text, "scope.txt")
    src, tgt = write_pair(tmp_path, linked=2)
    scope = tmp_path / "scope.txt"
    scope.write_text(text)
    result = run("plan", "--source", src, "--target", tgt, "--out", tmp_path / "p.json", "--scope", scope)
    assert result.exit_code == 2 and "scope.txt" in result.stderr and "row" in result.stderr
    assert not (tmp_path / "p.json").exists()


def test_scope_file_with_non_utf8_bytes_names_the_line(tmp_path):
    scope = tmp_path / "scope.txt"
    scope.write_bytes(b'filter Sales\n    department EQUALS "Sal\xe9s"\n')
    with pytest.raises(InputError, match="row 2"):
        load_scope(scope)


# --- the empty-scope guard ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("scope_text", ['filter Nobody\n    department EQUALS "No such department"\n',
                                        'filter Nobody\n    accountEnabled IS FALSE\n'])
def test_a_scope_matching_nobody_against_linked_users_is_refused_unless_confirmed(tmp_path, scope_text):
    src, tgt = write_pair(tmp_path, linked=3)
    scope = tmp_path / "scope.txt"
    scope.write_text(scope_text)
    out = tmp_path / "p.json"
    refused = run("plan", "--source", src, "--target", tgt, "--out", out, "--scope", scope)
    assert refused.exit_code == 2, refused.output
    assert "matches no source user" in refused.stderr and "all 3 target users" in refused.stderr
    assert "--confirm-empty-scope" in refused.stderr and not out.exists()
    confirmed = run("plan", "--source", src, "--target", tgt, "--out", out, "--scope", scope,
                    "--confirm-empty-scope", "-o", "json")
    assert confirmed.exit_code == 0, confirmed.output
    assert json.loads(confirmed.stdout)["counts"]["delete"] == 3


def test_a_scope_matching_nobody_is_fine_when_nothing_is_linked(tmp_path):
    src, tgt = write_pair(tmp_path, linked=0)
    scope = tmp_path / "scope.txt"
    scope.write_text('filter Nobody\n    department EQUALS "None"\n')
    result = run("plan", "--source", src, "--target", tgt, "--out", tmp_path / "p.json", "--scope", scope)
    assert result.exit_code == 0, result.output
