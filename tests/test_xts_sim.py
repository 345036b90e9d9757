"""``ccsync xts`` against the simulated clouds over loopback HTTPS.

Writes are counted at the HTTP layer (a requests session that records every Graph call), independently of the
call record ccsync keeps itself; tenant state is read back through the simulator's own state objects.
"""

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
from toolkit.xts.calls import TenantSide

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


# --- bad input: refused before any call ------------------------------------------------------------------------

def test_unsupported_pair_is_refused_with_the_supported_pairs(sample_sim: Simulator, tmp_path: Path) -> None:
    result = run_cli(sample_sim, tmp_path, "xts", "enable", "--source", "fabrikamfederal", "--target", "wingtipcn",
                     "--group", "CCS-Sync-Scope", "--yes")
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["error"] == "CloudError"
    assert "commercial -> gcch" in result.stderr      # the supported cross-cloud pairs are listed


def test_missing_permission_is_named_before_any_call(sample_sim: Simulator, tmp_path: Path) -> None:
    before = sample_sim.tenant(FABRIKAM).cross_tenant.policy_view()
    result = run_cli(sample_sim, tmp_path, "xts", "enable", "--source", "contoso-ccsync-reader", "--target",
                     "fabrikamfederal", "--group", "CCS-Sync-Scope", "--yes")
    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout)
    assert doc["error"] == "MissingPermissionError" and doc["permission"] == "Policy.ReadWrite.CrossTenantAccess"
    assert "Grant Policy.ReadWrite.CrossTenantAccess" in result.stderr
    assert sample_sim.tenant(FABRIKAM).cross_tenant.policy_view() == before
    assert not sample_sim.tenant(FABRIKAM).cross_tenant.inbound_sync_allowed(CONTOSO)


def test_status_with_a_reader_app_names_the_missing_permission(sample_sim: Simulator, tmp_path: Path) -> None:
    result = run_cli(sample_sim, tmp_path, "xts", "status", "--source", "contoso-ccsync-reader")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["permission"] == "Application.Read.All"
