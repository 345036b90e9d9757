"""The simulated Graph throttling model against Microsoft's documented limits (graph-facts.md section 8)."""

from __future__ import annotations

import re
import threading

import pytest

from toolkit.errors import InputError
from toolkit.simulator.throttling import Admission, ThrottleConfig, ThrottleModel, request_cost, tenant_size

TENANT = "11111111-1111-1111-1111-111111111111"
APP = "22222222-2222-2222-2222-222222222222"
SCOPE_RE = re.compile(r"^(Tenant_Application|Tenant|Application)/(Read|Write|ReadWrite)/[0-9a-f-]{36}/[0-9a-f-]{36}$")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


def model(clock: FakeClock, **kw) -> ThrottleModel:
    return ThrottleModel(ThrottleConfig(**kw), clock=clock)


def patch_user(m: ThrottleModel, tenant: str = TENANT, app: str = APP, users: int = 1000) -> Admission:
    return m.admit(tenant, app, "PATCH", "/v1.0/users/adele@contoso.com", {}, users)


def test_write_quota_admits_exactly_3000_per_app_and_tenant_then_throttles(clock):
    m = model(clock)
    results = [patch_user(m) for _ in range(3000)]
    assert all(r.allowed for r in results)
    over = patch_user(m)
    assert not over.allowed
    assert over.limit == "write.app_tenant"
    assert over.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert over.headers["x-ms-throttle-scope"] == f"Tenant_Application/Write/{APP}/{TENANT}"


def test_retry_after_is_fractional_and_waiting_it_is_exactly_enough(clock):
    m = model(clock)
    for _ in range(3000):
        patch_user(m)
    over = patch_user(m)
    # 3,000 writes / 150 s refill 20 per second; the throttled write itself counted: 2 units short -> 0.1 s.
    assert over.retry_after == pytest.approx(0.1)
    assert re.fullmatch(r"\d+\.\d{3}", over.headers["Retry-After"])
    clock.advance(over.retry_after - 0.01)
    early = patch_user(m)
    assert not early.allowed, "retrying before Retry-After must still be throttled"
    # The early retry counted too, so the total wait grew beyond the first Retry-After (0.09 + 0.06 s).
    assert early.retry_after == pytest.approx(0.06)
    clock.advance(early.retry_after)
    assert patch_user(m).allowed


def test_reads_still_succeed_while_writes_are_throttled(clock):
    m = model(clock)
    for _ in range(3001):
        patch_user(m)
    assert not patch_user(m).allowed
    read = m.admit(TENANT, APP, "GET", "/v1.0/users", {"$select": "id"}, 1000)
    assert read.allowed


def test_write_quota_per_tenant_across_apps(clock):
    m = model(clock)
    apps = [f"{n:08d}-0000-0000-0000-000000000000" for n in range(7)]
    admitted = 0
    for app in apps:          # 6 apps x 3,000 = the tenant's 18,000 per 5 minutes
        for _ in range(3000):
            admitted += patch_user(m, app=app).allowed
    assert admitted == 18_000
    seventh = apps[6]
    # The 7th app has used none of its own quota, but the tenant's is gone.
    r = patch_user(m, app=seventh)
    assert not r.allowed
    assert r.limit == "write.tenant"
    assert r.headers["x-ms-throttle-scope"] == f"Tenant/Write/{seventh}/{TENANT}"


def test_write_quota_per_app_across_tenants(clock):
    m = model(clock, write_app=5_000, write_app_tenant=3_000)
    tenants = [f"{n:08d}-1111-1111-1111-111111111111" for n in range(3)]
    for _ in range(3000):
        assert patch_user(m, tenant=tenants[0]).allowed
    for _ in range(2000):
        assert patch_user(m, tenant=tenants[1]).allowed
    r = patch_user(m, tenant=tenants[2])
    assert not r.allowed
    assert r.headers["x-ms-throttle-scope"] == f"Application/Write/{APP}/{tenants[2]}"


def test_time_scale_shrinks_windows_not_quotas(clock):
    m = model(clock, time_scale=0.1)
    for _ in range(3000):
        assert patch_user(m).allowed
    over = patch_user(m)
    assert not over.allowed
    # Same 2 units short, but the 150 s window now lasts 15 s: refill 200/s -> 0.01 s.
    assert over.retry_after == pytest.approx(0.01)
    clock.advance(15.0 + over.retry_after)   # the window, plus paying off the throttled write
    assert sum(patch_user(m).allowed for _ in range(3000)) == 3000


@pytest.mark.parametrize("users, size, quota", [(10, "S", 3500), (49, "S", 3500), (50, "M", 5000),
                                                (500, "M", 5000), (501, "L", 8000)])
def test_resource_unit_quota_depends_on_tenant_size(clock, users, size, quota):
    assert tenant_size(users) == size
    m = model(clock)
    # GET /users without modifiers costs 2 RU.
    admitted = 0
    while True:
        r = m.admit(TENANT, APP, "GET", "/users", {}, users)
        if not r.allowed:
            break
        admitted += 1
    assert admitted == quota // 2
    assert r.limit == "ru.app_tenant"
    assert r.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert SCOPE_RE.match(r.headers["x-ms-throttle-scope"])
    # 10 s window: the 2 RU request plus the 2 RU the throttled one cost -> 4 RU of refill.
    assert r.retry_after == pytest.approx(4 / (quota / 10.0), abs=0.001)


@pytest.mark.parametrize("method, path, query, cost, write", [
    ("GET", "/users", {}, 2, False),
    ("GET", "/v1.0/users", {"$select": "id,displayName"}, 1, False),
    ("GET", "/users", {"$select": "id", "$top": "999"}, 1, False),
    ("GET", "/users/abc", {"$expand": "manager"}, 3, False),
    ("GET", "/subscribedSkus", {}, 3, False),
    ("GET", "/groups/g1/members", {}, 3, False),
    ("GET", "/groups/g1/members", {"$top": "10"}, 2, False),
    ("GET", "/groups/g1/transitiveMembers", {}, 5, False),
    ("GET", "/users/u1/licenseDetails", {}, 2, False),
    ("GET", "/domains", {}, 1, False),
    ("GET", "/domains", {"$select": "id"}, 1, False),               # never below 1
    ("GET", "/organization", {"$top": "5", "$select": "id"}, 1, False),
    ("POST", "/users", {}, 1, True),
    ("POST", "/users/u1/assignLicense", {}, 1, True),
    ("PATCH", "/users/u1", {}, 1, True),
    ("DELETE", "/groups/g1/members/u1/$ref", {}, 1, True),
    ("PUT", "/policies/crossTenantAccessPolicy/partners/t/identitySynchronization", {}, 1, True),
    ("POST", "/directoryObjects/getByIds", {}, 3, False),
    ("POST", "/users/u1/checkMemberGroups", {}, 4, False),
    ("POST", "/users/u1/getMemberGroups", {}, 2, False),
    ("GET", "/users", {"select": "id"}, 1, False),                   # $ is optional in Graph query names
])
def test_resource_unit_costs_follow_the_documented_table(method, path, query, cost, write):
    assert request_cost(method, path, query) == (cost, write)


def test_every_identity_response_carries_resource_units(clock):
    m = model(clock)
    r = m.admit(TENANT, APP, "GET", "/groups/g1/transitiveMembers", {}, 10)
    assert r.headers["x-ms-resource-unit"] == "5"
    for _ in range(3000):
        patch_user(m)
    throttled = patch_user(m)
    assert not throttled.allowed and throttled.headers["x-ms-resource-unit"] == "1"


def test_limit_percentage_appears_only_above_80_percent(clock):
    m = model(clock)
    for _ in range(2400):   # exactly 80 % of 3,000 writes
        r = patch_user(m)
        assert "x-ms-throttle-limit-percentage" not in r.headers
    r = patch_user(m)
    assert float(r.headers["x-ms-throttle-limit-percentage"]) == pytest.approx(0.80, abs=0.01)
    for _ in range(149):
        r = patch_user(m)
    assert r.headers["x-ms-throttle-limit-percentage"] == "0.85"
    # Hammering while throttled: the value keeps rising but stays within the documented 0.8-1.8.
    for _ in range(5000):
        r = patch_user(m)
    assert r.headers["x-ms-throttle-limit-percentage"] == "1.80"


def test_invitations_limit_is_150_per_5_seconds_per_tenant_for_all_apps(clock):
    m = model(clock)
    apps = ["33333333-3333-3333-3333-333333333333", APP]
    results = [m.admit(TENANT, apps[n % 2], "POST", "/v1.0/invitations", {}, 10) for n in range(151)]
    assert sum(r.allowed for r in results) == 150
    last = results[-1]
    assert last.limit == "invitations.tenant"
    assert last.headers["x-ms-throttle-scope"].startswith("Tenant/")
    assert last.retry_after == pytest.approx(2 / 30.0, abs=0.001)   # 150 per 5 s = 30 per second
    # Another tenant is not affected.
    assert m.admit("44444444-4444-4444-4444-444444444444", APP, "POST", "/invitations", {}, 10).allowed
    # Invitations are not identity-and-access writes.
    assert m.stats()["limits"]["write.app_tenant"] == {"admitted": 0, "throttled": 0}


def test_reports_limit_is_5_per_10_seconds_per_app_and_tenant(clock):
    m = model(clock)
    paths = ["/auditLogs/provisioning", "/auditLogs/directoryAudits"]
    results = [m.admit(TENANT, APP, "GET", paths[n % 2], {"$top": "50"}, 10) for n in range(6)]
    assert [r.allowed for r in results] == [True] * 5 + [False]
    r = results[-1]
    assert r.headers["x-ms-throttle-scope"] == f"Tenant_Application/ReadWrite/{APP}/{TENANT}"
    assert r.retry_after == pytest.approx(4.0)    # 2 requests short at 0.5 per second
    other_app = "55555555-5555-5555-5555-555555555555"
    assert m.admit(TENANT, other_app, "GET", "/auditLogs/provisioning", {}, 10).allowed
    clock.advance(r.retry_after)
    assert m.admit(TENANT, APP, "GET", "/auditLogs/provisioning", {}, 10).allowed


def test_provision_on_demand_limit(clock):
    m = model(clock)
    path = "/servicePrincipals/sp/synchronization/jobs/j/provisionOnDemand"
    assert [m.admit(TENANT, APP, "POST", path, {}, 10).allowed for _ in range(6)] == [True] * 5 + [False]


def test_disabled_model_admits_everything_but_still_reports_cost(clock):
    m = model(clock, enabled=False)
    assert all(patch_user(m).allowed for _ in range(4000))
    assert patch_user(m).headers["x-ms-resource-unit"] == "1"


def test_stats_count_admitted_and_throttled_per_limit(clock):
    m = model(clock, write_app_tenant=10)
    for _ in range(12):
        patch_user(m)
    m.admit(TENANT, APP, "GET", "/users", {}, 10)
    s = m.stats()
    assert (s["requests"], s["admitted"], s["throttled"]) == (13, 11, 2)
    assert s["limits"]["write.app_tenant"] == {"admitted": 10, "throttled": 2}
    assert s["limits"]["ru.app_tenant"]["admitted"] == 11
    assert s["writes"] == 12 and s["resourceUnits"] == 14
    m.reset()
    assert m.stats()["requests"] == 0
    assert patch_user(m).allowed


def test_concurrent_admissions_never_exceed_the_quota(clock):
    m = model(clock, write_app_tenant=1000)
    allowed = []
    lock = threading.Lock()

    def worker() -> None:
        n = sum(patch_user(m).allowed for _ in range(300))
        with lock:
            allowed.append(n)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 1000


def test_time_scale_must_be_positive():
    with pytest.raises(InputError, match="time_scale"):
        ThrottleConfig(time_scale=0)
