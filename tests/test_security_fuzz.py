"""Issue 15, class 4: property-based fuzzing of every file an admin hands to ccsync.

Hypothesis mutates a valid plan, a snapshot (manifest and users JSON), a mapping and a scoping file, and feeds
them to ``ccsync apply --what-if`` and ``ccsync plan``. Whatever the input, the command must end with an exit
code (0, 1 or 2) and, on failure, an ``Error:`` line: never an internal error or a traceback, and a what-if run
never writes to the target.
"""

from __future__ import annotations

import codecs
import copy
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.cli.main import cli
from toolkit.plan.planfile import canonical_digest

from security_helpers import write_pair
from apply_helpers import FABRIKAM, make_plan, profile, source_tenant, source_user

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                        st.text(max_size=30), st.just("A" * 5000), st.just("../../etc/passwd"),
                        st.just("passwordProfile"), st.just("=cmd|' /C calc'!A0"))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                               st.dictionaries(st.text(max_size=10), inner,
                                                                               max_size=4)), max_leaves=10)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, prefix + (i,)))
    return out


@st.composite
def mutated_json(draw, base: Any) -> Any:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "duplicate", "wrap"]))
        if not path:
            doc = draw(JSON_VALUES) if action == "replace" else [doc]
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if action == "replace":
            parent[key] = draw(JSON_VALUES)
        elif action == "delete":
            del parent[key]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[key] = [parent[key]] if draw(st.booleans()) else {"value": parent[key]}
    return doc


@st.composite
def encoded(draw, doc: Any) -> bytes:
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    how = draw(st.sampled_from(["utf8", "utf8", "utf16-bom", "utf16", "latin1-byte", "truncated", "nested"]))
    if how == "utf16-bom":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if how == "utf16":
        return text.encode("utf-16-le")
    if how == "latin1-byte":
        data = text.encode()
        cut = draw(st.integers(0, len(data)))
        return data[:cut] + b"\xe9" + data[cut:]
    if how == "truncated":
        return text.encode()[:draw(st.integers(0, len(text)))]
    if how == "nested":
        return ("[" * 5000 + "]" * 5000).encode()
    return text.encode()


def _rehash(doc: Any) -> Any:
    if isinstance(doc, dict) and isinstance(doc.get("integrity"), dict):
        doc["integrity"]["digest"] = canonical_digest(doc)
    return doc


CODES: list[int] = []


def _check(result) -> None:
    CODES.append(result.exit_code)
    assert "Internal error" not in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        assert "Error:" in result.stderr or "Usage:" in result.stderr


@pytest.fixture(scope="module")
def fuzz_home():
    folder = Path(tempfile.mkdtemp(prefix="ccsync-fuzz-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def plan_base(sim, fuzz_home):
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(3)]))
    return json.loads(plan.dumps())


def test_mutated_plans_never_crash_apply(sim, fuzz_home, plan_base):
    config = sim.write_profiles(fuzz_home / "config.toml")
    prof = profile(sim, FABRIKAM)
    users_before = set(sim.tenant(FABRIKAM).users)

    @SETTINGS
    @given(doc=mutated_json(plan_base), rehash=st.booleans(), data=st.data())
    def run(doc, rehash, data):
        if rehash:
            doc = _rehash(doc)
        path = fuzz_home / "plan.json"
        path.write_bytes(data.draw(encoded(doc)))
        result = CliRunner().invoke(cli, ["apply", str(path), "--profile", prof.name, "--config", str(config),
                                          "--what-if", "--trust-unsigned-plan", "--output", "json",
                                          "--progress", "none"], env={prof.secret_env: sim.secret_for(FABRIKAM),
                                                                      "CCSYNC_CACHE_DIR": str(fuzz_home / "t")})
        _check(result)

    CODES.clear()
    run()
    assert set(sim.tenant(FABRIKAM).users) == users_before
    assert 2 in CODES and len(CODES) >= 30, CODES          # the fuzzer did reach the refusals


@pytest.fixture(scope="module")
def snapshots(fuzz_home):
    return write_pair(fuzz_home, linked=2)


@pytest.mark.parametrize("target_file", ["manifest.json", "graph/users.json", "graph/organization.json"])
def test_mutated_snapshots_never_crash_plan(fuzz_home, snapshots, target_file):
    src, tgt = snapshots
    base = json.loads((src / target_file).read_text(encoding="utf-8"))

    @SETTINGS
    @given(doc=mutated_json(base), data=st.data(), fix_hash=st.booleans())
    def run(doc, data, fix_hash):
        work = fuzz_home / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(src, work)
        (work / target_file).write_bytes(data.draw(encoded(doc)))
        if fix_hash and target_file != "manifest.json":
            from toolkit.export.snapshot import sha256_file
            manifest = json.loads((work / "manifest.json").read_text())
            manifest["files"][target_file]["sha256"] = sha256_file(work / target_file)
            (work / "manifest.json").write_text(json.dumps(manifest))
        result = CliRunner().invoke(cli, ["plan", "--source", str(work), "--target", str(tgt),
                                          "--out", str(fuzz_home / "p.json"), "-o", "json"],
                                    env={"CCSYNC_CACHE_DIR": str(fuzz_home / "t")})
        _check(result)

    CODES.clear()
    run()
    assert 2 in CODES, CODES


SCOPE_BASE = 'group Sales Team\nfilter Sales\n    department EQUALS "Sales"\n    accountEnabled IS TRUE\n'
MAPPING_BASE = ('displayName = Join(" ", [givenName], [displayName])\njobTitle = Coalesce([jobTitle], "Staff")\n'
                'once userType = "Member"\ndepartment = Switch([department], [department], "R", "R&D")\n')
NOISE = st.sampled_from(['"', "'", "[", "]", "(", ")", ",", "#", "=", "\n", "    ", "\t", "once ", "group ",
                         "filter ", "EQUALS ", "REGEX MATCH ", "(?", "\\", "\x00", "é", "\ufeff", "[nope]",
                         "passwordProfile = [x]\n", "onPremisesExtensionAttributes.extensionAttribute15 = [id]\n"])


@st.composite
def mutated_text(draw, base: str) -> bytes:
    text = base
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(NOISE) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 5)):]
    data = text.encode("utf-8")
    if draw(st.integers(0, 5)) == 0:
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.sampled_from([b"\xe9", b"\xff", b"\xc3"])) + data[cut:]
    return data


@pytest.mark.parametrize("kind", ["mapping", "scope"])
def test_mutated_mapping_and_scope_files_never_crash_plan(fuzz_home, snapshots, kind):
    src, tgt = snapshots

    @SETTINGS
    @given(data=mutated_text(MAPPING_BASE if kind == "mapping" else SCOPE_BASE))
    def run(data):
        path = fuzz_home / f"input.{kind}"
        path.write_bytes(data)
        result = CliRunner().invoke(cli, ["plan", "--source", str(src), "--target", str(tgt), f"--{kind}",
                                          str(path), "--out", str(fuzz_home / "p.json")],
                                    env={"CCSYNC_CACHE_DIR": str(fuzz_home / "t")})
        _check(result)

    CODES.clear()
    run()
    assert 2 in CODES, CODES
