"""``ccsync logs fetch`` against the simulator over loopback HTTPS: paced under the reports limit (no 429),
de-duplicated by id, only new records on the next run, resume after an interruption, one tenant per archive."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.errors import InputError
from toolkit.graph import GraphClient
from toolkit.graph.pacing import WritePacer
from toolkit.logs import FetchOptions, LogArchive, fetch_for_profile
from toolkit.simulator import SimConfig, Simulator
from toolkit.simulator.auditlogs import dense_provisioning_log
from toolkit.simulator.throttling import ThrottleConfig

from conftest import make_seed

SCALE = 0.05          # reports limit: 5 requests per 0.5 s on both sides
NOW = dt.datetime.now(dt.timezone.utc)


def _seed() -> dict:
    seed = make_seed()
    seed["apps"][0]["roles"] = seed["apps"][0]["roles"] + ["AuditLog.Read.All"]
    return seed


@pytest.fixture()
def logsim() -> Iterator[Simulator]:
    simulator = Simulator(SimConfig(seed_dir=None, seeds=[_seed()], throttle=ThrottleConfig(time_scale=SCALE))).start()
    state = simulator.tenants()[0]
    state.provisioning.extend(dense_provisioning_log(
        240, tenant_id=state.tenant_id, start=NOW - dt.timedelta(days=2), end=NOW - dt.timedelta(hours=1)))
    try:
        yield simulator
    finally:
        simulator.stop()


def _profile(sim: Simulator) -> Any:
    tenant = sim.tenants()[0].tenant_id
    return next(p for p in sim.profiles() if p.tenant == tenant and "reader" not in p.name
                and "inviter" not in p.name)


def _client(sim: Simulator) -> GraphClient:
    prof = _profile(sim)
    return GraphClient.from_profile(prof, secret=sim.secret_for(prof.tenant, prof.client_id),
                                    pacer=WritePacer.scaled(SCALE))


OPTIONS = FetchOptions(top=40, window=dt.timedelta(hours=12), dense=100)


def test_fetch_stores_everything_paced_without_429_and_the_next_run_costs_only_new(logsim, tmp_path):
    state = logsim.tenants()[0]
    client = _client(logsim)
    first = fetch_for_profile(_profile(logsim), str(tmp_path / "a.sqlite"), OPTIONS, client=client)
    prov, audit = first.kinds
    assert first.throttled == 0 and first.tenant_id == state.tenant_id
    assert prov.fetched == prov.new == prov.stored == 240
    assert audit.stored == len(state.audit)
    assert stat.S_IMODE(os.stat(tmp_path / "a.sqlite").st_mode) == 0o600

    later = dense_provisioning_log(15, tenant_id=state.tenant_id, start=dt.datetime.now(dt.timezone.utc)
                                   - dt.timedelta(seconds=30), end=dt.datetime.now(dt.timezone.utc), seed=99)
    state.provisioning.extend(later)
    second = fetch_for_profile(_profile(logsim), str(tmp_path / "a.sqlite"), OPTIONS, client=client)
    prov2 = second.kinds[0]
    assert prov2.new == 15 and prov2.fetched == 15          # the overlap window holds only the new records
    assert prov2.requests == 1 and second.throttled == 0
    with LogArchive(tmp_path / "a.sqlite", create=False) as archive:
        assert archive.count("provisioning") == 255
        ids = [r["id"] for r in archive.records("provisioning")]
        assert len(ids) == len(set(ids)) == 255
        stored = {r["id"]: r for r in archive.records("provisioning")}
    original = {r["id"]: r for r in state.provisioning}
    assert stored == original                                   # Graph's JSON, kept as returned


def test_an_interrupted_fetch_resumes_from_its_last_page(logsim, tmp_path):
    client = _client(logsim)
    pages = {"n": 0}

    def stop_after_three(event: dict) -> None:
        if event["event"] == "page":
            pages["n"] += 1
            if pages["n"] == 3:
                raise KeyboardInterrupt

    options = FetchOptions(top=40, window=dt.timedelta(days=30), kinds=("provisioning",))
    with pytest.raises(KeyboardInterrupt):
        with LogArchive(tmp_path / "r.sqlite", tenant_id=logsim.tenants()[0].tenant_id) as archive:
            from toolkit.logs import fetch_logs
            fetch_logs(client, archive, options, on_progress=stop_after_three)
    with LogArchive(tmp_path / "r.sqlite", create=False) as archive:
        assert archive.count("provisioning") == 120          # three pages of 40 committed
        assert archive.progress("provisioning")["nextLink"]
    again = fetch_for_profile(_profile(logsim), str(tmp_path / "r.sqlite"), options, client=client)
    kind = again.kinds[0]
    assert kind.resumed and kind.stored == 240 and kind.new == 120
    # the three pages left, not the whole window again (plus one request for the seconds since the first run)
    assert kind.fetched == 120 and kind.requests == 4


def test_an_archive_of_another_tenant_is_refused(logsim, tmp_path):
    with LogArchive(tmp_path / "x.sqlite", tenant_id="11111111-1111-1111-1111-111111111111"):
        pass
    with pytest.raises(InputError) as err:
        fetch_for_profile(_profile(logsim), str(tmp_path / "x.sqlite"), OPTIONS, client=_client(logsim))
    assert "belongs to tenant 11111111-1111-1111-1111-111111111111" in err.value.message
    assert "--archive" in err.value.hint


def test_job_filter_and_a_range_with_no_events(logsim, tmp_path):
    state = logsim.tenants()[0]
    other = dense_provisioning_log(5, tenant_id=state.tenant_id, start=NOW - dt.timedelta(hours=3),
                                   end=NOW - dt.timedelta(hours=2), job_id="Azure2Azure.second", seed=3)
    state.provisioning.extend(other)
    options = FetchOptions(job_id="Azure2Azure.second", kinds=("provisioning",), window=dt.timedelta(days=30))
    result = fetch_for_profile(_profile(logsim), str(tmp_path / "j.sqlite"), options, client=_client(logsim))
    assert result.kinds[0].stored == 5
    empty = FetchOptions(since=NOW - dt.timedelta(days=400), until=NOW - dt.timedelta(days=399),
                         kinds=("provisioning",))
    none = fetch_for_profile(_profile(logsim), str(tmp_path / "e.sqlite"), empty, client=_client(logsim))
    assert none.kinds[0].fetched == 0 and none.kinds[0].windows >= 1


def test_cli_fetch_then_report_from_the_archive(logsim, tmp_path):
    config = logsim.write_profiles(tmp_path / "config.toml")
    prof = _profile(logsim)
    env = {prof.secret_env: logsim.secret_for(prof.tenant, prof.client_id)}
    archive = tmp_path / "logs.sqlite"
    runner = CliRunner()
    # the CLI's client paces at the documented 5 per 10 s: fetch a small range (one window, one page each)
    fetched = runner.invoke(cli, ["logs", "fetch", "--profile", prof.name, "--config", str(config),
                                  "--archive", str(archive), "--since", "3h", "-o", "json"], env=env)
    assert fetched.exit_code == 0, fetched.output
    doc = json.loads(fetched.stdout)
    assert doc["throttled"] == 0 and doc["kinds"][0]["kind"] == "provisioning"
    assert "provisioning: done" in fetched.stderr
    out = tmp_path / "prov.xlsx"
    made = runner.invoke(cli, ["report", "provisioning", "--archive", str(archive), "--out", str(out), "-o", "json"])
    assert made.exit_code == 0, made.output
    summary = json.loads(made.stdout)["summary"]
    assert summary["events"] == doc["kinds"][0]["stored"] and out.exists()
    assert summary["tenantId"] == logsim.tenants()[0].tenant_id


def test_a_dense_window_makes_the_next_windows_smaller(logsim, tmp_path):
    options = FetchOptions(top=100, window=dt.timedelta(days=30), dense=50, kinds=("provisioning",))
    result = fetch_for_profile(_profile(logsim), str(tmp_path / "d.sqlite"), options, client=_client(logsim))
    kind = result.kinds[0]
    assert kind.shrunk >= 1 and kind.stored == 240 and result.throttled == 0


def test_without_pacing_429s_come_and_retry_after_is_honoured(tmp_path):
    # Windows of 2 s (not the fixture's 0.5 s): six requests inside one window must happen even on a busy machine.
    simulator = Simulator(SimConfig(seed_dir=None, seeds=[_seed()], throttle=ThrottleConfig(time_scale=0.2))).start()
    try:
        state = simulator.tenants()[0]
        state.provisioning.extend(dense_provisioning_log(
            240, tenant_id=state.tenant_id, start=NOW - dt.timedelta(days=2), end=NOW - dt.timedelta(hours=1)))
        prof = _profile(simulator)
        unpaced = GraphClient.from_profile(prof, secret=simulator.secret_for(prof.tenant, prof.client_id), pacer=None)
        options = FetchOptions(top=10, window=dt.timedelta(days=30), kinds=("provisioning",))
        result = fetch_for_profile(prof, str(tmp_path / "u.sqlite"), options, client=unpaced)
        assert result.throttled > 0                      # the limit is real ...
        assert result.kinds[0].stored == 240             # ... and waiting Retry-After still gets every record
    finally:
        simulator.stop()
