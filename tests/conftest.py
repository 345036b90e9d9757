"""Shared fixtures: one running simulator for the whole session, and plain-requests helpers to talk to it.

The helpers deliberately use ``requests`` directly (not ccsync's auth or Graph client), so simulator tests do
not depend on the code they are meant to check. ``REQUESTS_CA_BUNDLE`` is set on these machines, so sessions
come from ``toolkit.transport.make_session(sim.ca_bundle)``, which passes ``verify=`` per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import pytest
import requests

from toolkit.clouds import get_cloud
from toolkit.simulator import SimConfig, Simulator
from toolkit.transport import make_session


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    """The simulator with the default seeds (samples/tenants), no faults, throttling at documented quotas."""
    with Simulator(SimConfig()) as running:
        yield running


def sim_session(simulator: Simulator) -> requests.Session:
    """A requests session that trusts the simulator's test CA (and nothing from the environment)."""
    return make_session(simulator.ca_bundle)


def get_token(simulator: Simulator, tenant: str, app_id: str | None = None, *, cloud: str | None = None,
              session: requests.Session | None = None) -> str:
    """A client-credentials access token for the tenant's (first or named) app, by a plain POST."""
    state = simulator.tenant(tenant)
    app = state.apps[app_id] if app_id else next(iter(state.apps.values()))
    cloud_name = cloud or state.cloud
    base = simulator.endpoints(cloud_name).login_url
    resp = (session or sim_session(simulator)).post(
        f"{base}/{state.tenant_id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": app.app_id,
              "client_secret": simulator.secret_for(state.tenant_id, app.app_id),
              "scope": get_cloud(state.cloud).graph_scope})
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


@dataclass
class GraphCaller:
    """Calls one simulated cloud's Graph v1.0 as one tenant's app, with plain requests."""

    simulator: Simulator
    tenant_id: str
    token: str
    base: str
    session: requests.Session

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.base}/v1.0/{path.lstrip('/')}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.session.request(method, self.url(path), headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def all_items(self, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Follow @odata.nextLink verbatim until the last page."""
        items, url = [], path
        while url:
            resp = self.get(url, **kwargs)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            items.extend(body["value"])
            url = body.get("@odata.nextLink")
            kwargs.pop("params", None)
        return items


def graph_caller(simulator: Simulator, tenant: str, app_id: str | None = None) -> GraphCaller:
    state = simulator.tenant(tenant)
    session = sim_session(simulator)
    token = get_token(simulator, tenant, app_id, session=session)
    return GraphCaller(simulator, state.tenant_id, token, simulator.endpoints(state.cloud).graph_url, session)


# --- a small seed, built in code: it documents the seed-file format (docs/ARCHITECTURE.md "Seed files") -------

SEED_TENANT = "0b8e8a3c-1d1f-4a43-9b5c-6f0a5d2e7a01"
SEED_APP = "7d4c0f7e-3c1b-4e8e-9a51-0c2f4b1e9d10"
SEED_READER = "7d4c0f7e-3c1b-4e8e-9a51-0c2f4b1e9d11"
SEED_INVITER = "7d4c0f7e-3c1b-4e8e-9a51-0c2f4b1e9d12"
SKU_E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
SKU_P1 = "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"
PLAN_EXO = "efb87545-963c-4e0d-99df-69c6916d9eb0"
PLAN_AAD = "41781fb2-bc02-4b7c-bd55-b576c07bb09d"
GROUP_LICENSED = "5a0c5b1e-2f34-4c6a-8e0e-1b2c3d4e5f60"
GROUP_NESTED = "5a0c5b1e-2f34-4c6a-8e0e-1b2c3d4e5f61"


def user_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def make_seed(users: int = 6, e3_units: int = 4, p1_units: int = 2, cloud: str = "commercial",
              tenant_id: str = SEED_TENANT, domain: str = "fourthcoffee") -> dict[str, Any]:
    """A small tenant: users 1..n (user 1 direct E3, users 2..4 in a group that carries P1, user 5 with a forced
    licence error, user 6 without usageLocation), a nested group, an E3 and a P1 SKU, three apps."""
    seed: dict[str, Any] = {
        "cloud": cloud,
        "organization": {"id": tenant_id, "displayName": "Fourth Coffee", "countryLetterCode": "US"},
        "domains": [
            {"id": f"{domain}.onmicrosoft.com", "isVerified": True, "isDefault": False, "isInitial": True,
             "authenticationType": "Managed", "supportedServices": ["Email"]},
            {"id": f"{domain}.com", "isVerified": True, "isDefault": True, "isInitial": False,
             "authenticationType": "Managed", "supportedServices": ["Email"]},
            {"id": f"{domain}.net", "isVerified": False, "isDefault": False, "isInitial": False,
             "authenticationType": "Managed", "supportedServices": []}],
        "apps": [
            {"appId": SEED_APP, "displayName": "ccsync", "certificates": [],
             "roles": ["User.ReadWrite.All", "Directory.ReadWrite.All", "User.Invite.All",
                       "LicenseAssignment.ReadWrite.All", "Group.ReadWrite.All"]},
            {"appId": SEED_READER, "displayName": "reader", "roles": ["User.Read.All"], "certificates": []},
            {"appId": SEED_INVITER, "displayName": "inviter", "roles": ["User.Invite.All"], "certificates": []}],
        "subscribedSkus": [
            {"skuId": SKU_E3, "skuPartNumber": "SPE_E3", "appliesTo": "User", "capabilityStatus": "Enabled",
             "prepaidUnits": {"enabled": e3_units, "warning": 0, "suspended": 0, "lockedOut": 0},
             "servicePlans": [{"servicePlanId": PLAN_EXO, "servicePlanName": "EXCHANGE_S_ENTERPRISE",
                               "provisioningStatus": "Success", "appliesTo": "User"}]},
            {"skuId": SKU_P1, "skuPartNumber": "AAD_PREMIUM", "appliesTo": "User", "capabilityStatus": "Enabled",
             "prepaidUnits": {"enabled": p1_units, "warning": 0, "suspended": 0, "lockedOut": 0},
             "servicePlans": [{"servicePlanId": PLAN_AAD, "servicePlanName": "AAD_PREMIUM",
                               "provisioningStatus": "Success", "appliesTo": "User"}]}],
        "groups": [
            {"id": GROUP_LICENSED, "displayName": "Licensed staff", "mailNickname": "licensed",
             "securityEnabled": True, "mailEnabled": False, "groupTypes": [],
             "members": [user_id(2), user_id(3), user_id(4), GROUP_NESTED],
             "assignedLicenses": [{"skuId": SKU_P1, "disabledPlans": []}]},
            {"id": GROUP_NESTED, "displayName": "Nested team", "mailNickname": "nested", "securityEnabled": True,
             "mailEnabled": False, "groupTypes": [], "members": [user_id(5)], "assignedLicenses": []}],
        "users": []}
    for n in range(1, users + 1):
        user: dict[str, Any] = {
            "id": user_id(n), "userPrincipalName": f"user{n}@{domain}.com", "displayName": f"User {n:02d}",
            "givenName": "User", "surname": f"{n:02d}", "mail": f"user{n}@{domain}.com",
            "mailNickname": f"user{n}", "accountEnabled": n != 3, "userType": "Member",
            "usageLocation": None if n == 6 else "US", "department": "Sales" if n % 2 else "Engineering",
            "jobTitle": f"Title {n}", "businessPhones": [], "assignedLicenses": []}
        if n == 1:
            user["assignedLicenses"] = [{"skuId": SKU_E3, "disabledPlans": [PLAN_EXO]}]
        if n == 5:
            user["assignedLicenses"] = [{"skuId": SKU_E3, "disabledPlans": []}]
            user["@sim.licenseErrors"] = {SKU_E3: "MutuallyExclusiveViolation"}
        seed["users"].append(user)
    return seed


def small_sim(**kwargs: Any) -> Simulator:
    """A started simulator serving only ``make_seed()`` (plus ``SimConfig`` overrides); stop it after use."""
    seed_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in ("users", "e3_units", "p1_units")}
    return Simulator(SimConfig(seed_dir=None, seeds=[make_seed(**seed_kwargs)], **kwargs)).start()


@pytest.fixture
def fresh() -> Iterator[Simulator]:
    """A simulator of its own, for tests that change the directory."""
    simulator = small_sim()
    try:
        yield simulator
    finally:
        simulator.stop()
