"""Shared by the ``ccsync xts`` tests (test_xts_enable.py, test_xts_sim.py): simulators with the sample tenants or
an empty-of-policy pair, the CLI run against them, a requests session that counts every Graph call (writes
counted at the HTTP layer, independently of ccsync's own call record), and the steps those tests repeat."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from toolkit.auth import TokenProvider
from toolkit.cli.main import cli
from toolkit.graph import GraphClient
from toolkit.simulator import SimConfig, Simulator
from toolkit.transport import make_session
from toolkit.xts import EnableOptions, execute_enable, plan_enable
from toolkit.xts.calls import TenantSide
from toolkit.xts.enable import check_sides

from conftest import graph_caller
from xts_sim import SOURCE, TARGET, configure_source, configure_target, new_configuration, new_job, pair_sim

CONTOSO = "f78a1d87-6c6a-551d-9a2d-2868c0bcaf9d"
FABRIKAM = "630001af-a570-5cab-abf5-2e9d77c5349f"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture()
def sample_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A fresh simulator with the sample tenants, and a private token cache."""
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    with Simulator(SimConfig()) as running:
        yield running


def run_cli(sim: Simulator, tmp_path: Path, *args: str, output: str = "json") -> Any:
    config = sim.write_profiles(tmp_path / "config.toml")
    env = {p.secret_env: sim.secret_for(p.tenant, p.client_id) for p in sim.profiles()}
    env["CCSYNC_CACHE_DIR"] = os.environ.get("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    return CliRunner().invoke(cli, [*args, "--config", str(config), "--output", output], env=env)


class CountingSession:
    """Wraps a requests session: records (method, path) of every Graph call (token requests excluded)."""

    def __init__(self, session: Any):
        self.session, self.calls = session, []
        original = session.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if "/v1.0/" in url:
                self.calls.append((method.upper(), url.split("/v1.0", 1)[1].split("?", 1)[0]))
            return original(method, url, *args, **kwargs)
        session.request = request

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in WRITES]


def side(sim: Simulator, role: str, tenant: str, app_id: str | None = None) -> tuple[TenantSide, CountingSession]:
    profile = next(p for p in sim.profiles() if p.tenant == tenant and (app_id is None or p.client_id == app_id))
    counter = CountingSession(make_session(sim.ca_bundle))
    provider = TokenProvider(profile, session=counter.session, secret=sim.secret_for(tenant, profile.client_id),
                             persist_cache=False)
    s = TenantSide.from_profile(role, profile, client=GraphClient(profile.graph_base, provider, counter.session))
    s.load_organization()
    return s, counter


GROUP_NAME = "Licensed staff"   # conftest.make_seed: users 2, 3, 4 (user 3 disabled) and a nested group


@pytest.fixture()
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """Two empty-of-policy tenants per cloud pair (xts_sim.pair_seeds): commercial source, GCC High and
    commercial targets."""
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    sim = pair_sim()
    try:
        yield sim
    finally:
        sim.stop()


def profile_name(sim: Simulator, tenant: str) -> str:
    return next(e["name"] for e in sim.profile_entries() if e["tenant"] == tenant)


def enable(sim: Simulator, source_id: str, target_id: str, **options: Any) -> tuple[Any, CountingSession, CountingSession]:
    source, s_count = side(sim, "source", source_id)
    target, t_count = side(sim, "target", target_id)
    pair_ = check_sides("enable", source, target)
    plan = plan_enable(source, target, EnableOptions(groups=[GROUP_NAME], **options), pair_)
    return execute_enable(plan), s_count, t_count


def status_of(sim: Simulator, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    result = run_cli(sim, tmp_path, "xts", "status", "--source", profile_name(sim, SOURCE))
    return result.exit_code, json.loads(result.stdout)


def cross_cloud_job(sim: Simulator, *, portal_config: bool, tick: bool, target_side: bool) -> None:
    src, tgt = graph_caller(sim, SOURCE), graph_caller(sim, TARGET)
    assert src.patch("policies/crossTenantAccessPolicy", {"allowedCloudEndpoints": ["microsoftonline.us"]}).status_code == 204
    if tick:
        sim.portal_tick_cross_cloud_sync(TARGET, "commercial")
    if target_side:
        configure_target(tgt)
    configure_source(src)
    sp = sim.portal_create_cross_cloud_configuration(SOURCE, "Northwind Gov") if portal_config \
        else new_configuration(src)
    new_job(src, sp)
    sim.run_sync_cycle(SOURCE)


