"""Microsoft Graph's identity-and-access throttling, simulated.

Facts (``docs/graph-facts.md`` sections 8.2-8.4, from Microsoft's "throttling limits" page):

======================================  ==========================  ==========================
scope                                   resource units (RU)         writes
======================================  ==========================  ==========================
application + tenant                    S (<50 users) 3,500 / 10 s  3,000 / 150 s
                                        M (50-500)    5,000 / 10 s
                                        L (>500)      8,000 / 10 s
application (all tenants)               150,000 / 20 s              70,000 / 300 s
tenant (all applications)               --                          18,000 / 300 s
``/invitations``                        150 requests / 5 s per tenant (all apps)
``/auditLogs/...`` (reports)            5 requests / 10 s per app per tenant
``.../provisionOnDemand``               5 requests / 10 s (per app per tenant here; the docs name no scope)
======================================  ==========================  ==========================

Model: **token buckets**, one per (limit, key). A bucket holds ``quota`` units and refills continuously at
``quota / window`` units per second. Why buckets and not sliding windows: Microsoft describes the RU quota as a
token bucket; a bucket needs O(1) memory per key whatever the request rate (benchmarks push millions of
requests); and "the time until enough budget frees" -- the ``Retry-After`` Graph sends, fractional like
``2.128`` -- falls out of it exactly: ``(cost - tokens) / refill rate``.

A throttled request still counts against usage (Microsoft: "throttled requests count towards your usage"):
its cost is taken from every bucket that applies, so a bucket can go into debt. The debt is floored at
0.8 x quota, which is why ``x-ms-throttle-limit-percentage`` (consumed / quota) tops out at 1.8 -- the range
Microsoft documents (0.8-1.8). ``Retry-After`` is computed after that charge, so a client that waits exactly
``Retry-After`` is admitted, and one that retries early digs itself deeper.

``ThrottleConfig.time_scale`` shrinks every window (0.1 => a 150 s write window lasts 15 s) while quotas stay
the same, so benchmarks can exercise the limits quickly; ``Retry-After`` is in scaled (real) seconds.

Headers produced (the Graph side attaches them to its response):

* ``x-ms-resource-unit``: RU charged, on every identity-and-access response (throttled or not);
* ``x-ms-throttle-limit-percentage``: when more than 0.8 of any applicable limit is consumed, e.g. ``"0.85"``;
* on 429: ``Retry-After`` (fractional seconds), ``x-ms-throttle-scope``
  ``<Scope>/<Limit>/<ApplicationId>/<TenantId>`` and ``x-ms-throttle-information``.

Where the docs are silent (which Limit word an RU or request-count limit reports; the information string for
the invitation, reports and provisionOnDemand limits) the choices are marked in ``_LIMITS`` below.
The caller evaluates each inner request of a ``$batch`` on its own (Microsoft: "evaluated individually") and
does not admit the ``$batch`` envelope itself.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..errors import InputError

__all__ = ["ThrottleConfig", "Admission", "ThrottleModel", "request_cost", "tenant_size", "LIMIT_NAMES"]


@dataclass(frozen=True)
class ThrottleConfig:
    """Quotas and windows of the model; defaults are Microsoft's documented values.

    ``time_scale`` multiplies every window (not the quotas). ``enabled=False`` admits everything but still
    reports ``x-ms-resource-unit``.
    """

    enabled: bool = True
    time_scale: float = 1.0
    ru_small: int = 3_500            # app + tenant, tenant < 50 users, per ru_window_s
    ru_medium: int = 5_000           # 50-500 users
    ru_large: int = 8_000            # > 500 users
    ru_window_s: float = 10.0
    ru_app: int = 150_000            # app across all tenants
    ru_app_window_s: float = 20.0
    write_app_tenant: int = 3_000
    write_app_tenant_window_s: float = 150.0
    write_tenant: int = 18_000
    write_tenant_window_s: float = 300.0
    write_app: int = 70_000
    write_app_window_s: float = 300.0
    invitations_tenant: int = 150
    invitations_window_s: float = 5.0
    reports_app_tenant: int = 5
    reports_window_s: float = 10.0
    provision_on_demand: int = 5
    provision_on_demand_window_s: float = 10.0

    def __post_init__(self) -> None:
        if not (isinstance(self.time_scale, (int, float)) and self.time_scale > 0 and math.isfinite(self.time_scale)):
            raise InputError(f"time_scale must be a positive number, not {self.time_scale!r}.", field="time_scale",
                             hint="Use e.g. 0.1 to make every throttling window ten times shorter.")


@dataclass
class Admission:
    """The verdict for one request: admitted or not, how long to wait, and the headers Graph would send."""

    allowed: bool
    retry_after: float | None
    headers: dict[str, str]
    resource_units: int = 0
    write: bool = False
    limit: str | None = None          # the limit that throttled (one of LIMIT_NAMES), None when admitted


# name -> (Scope word, Limit word, x-ms-throttle-information)
_LIMITS: dict[str, tuple[str, str, str]] = {
    # The RU quota is shared by reads and writes, hence "ReadWrite" (the docs list the word, not the mapping).
    "ru.app_tenant": ("Tenant_Application", "ReadWrite", "ResourceUnitLimitExceeded"),
    "ru.app": ("Application", "ReadWrite", "ResourceUnitLimitExceeded"),
    "write.app_tenant": ("Tenant_Application", "Write", "WriteLimitExceeded"),
    "write.tenant": ("Tenant", "Write", "WriteLimitExceeded"),
    "write.app": ("Application", "Write", "WriteLimitExceeded"),
    # Request-count limits of other services: the docs give no information string; ours says what happened.
    "invitations.tenant": ("Tenant", "ReadWrite", "RequestLimitExceeded"),
    "reports.app_tenant": ("Tenant_Application", "ReadWrite", "RequestLimitExceeded"),
    "provisionOnDemand.app_tenant": ("Tenant_Application", "ReadWrite", "RequestLimitExceeded"),
}
LIMIT_NAMES: tuple[str, ...] = tuple(_LIMITS)

_EPSILON = 1e-6
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_VERSION_PREFIX = re.compile(r"^/?(v1\.0|beta)(?=/|$)", re.IGNORECASE)
_SEG = r"[^/]+"
# GET costs from the documented table; `me/...` costs also apply to users/{id|upn}/... (Microsoft's note).
_GET_COSTS: list[tuple[re.Pattern[str], int]] = [(re.compile(p, re.IGNORECASE), c) for p, c in (
    (r"^/users(/delta)?$", 2),
    (rf"^/users/{_SEG}$", 2),
    (rf"^/(me|users/{_SEG})/(licenseDetails|memberOf|transitiveMemberOf|ownedObjects)(/.*)?$", 2),
    (r"^/subscribedSkus(/[^/]+)?$", 3),
    (rf"^/applications(/{_SEG})?$", 2),
    (rf"^/applications/{_SEG}/extensionProperties(/.*)?$", 2),
    (rf"^/groups/{_SEG}/members(/.*)?$", 3),
    (rf"^/groups/{_SEG}/transitiveMembers(/.*)?$", 5),
    (rf"^/servicePrincipals/{_SEG}/appRoleAssignments(/.*)?$", 2),
    (r"^/oauth2PermissionGrants(/.*)?$", 2),
    (r"^/contracts(/.*)?$", 3),
    (rf"^/domains/{_SEG}/domainNameReferences(/.*)?$", 4),
)]
# POSTs that are reads: (pattern, RU); they use no write quota.
_READ_POSTS: list[tuple[re.Pattern[str], int]] = [(re.compile(p, re.IGNORECASE), c) for p, c in (
    (r"^/directoryObjects/getByIds$", 3),
    (r"^/getObjectsById$", 3),
    (r"^/(.+/)?isMemberOf$", 4),
    (r"^/(.+/)?(checkMemberGroups|checkMemberObjects)$", 4),
    (r"^/(.+/)?(getMemberGroups|getMemberObjects)$", 2),
)]


def _normalise_path(path: str) -> str:
    """``/v1.0/users/x?$top=5`` -> ``/users/x``: version prefix, query and trailing slash removed."""
    p = path.split("?", 1)[0]
    if "://" in p:
        p = "/" + p.split("://", 1)[1].split("/", 1)[-1]
    p = _VERSION_PREFIX.sub("", p)
    p = "/" + p.strip("/")
    return p


def _query_value(query: Mapping[str, Any], name: str) -> Any:
    for key in (f"${name}", name):
        for k, v in query.items():
            if k.lower() == key.lower():
                return v[0] if isinstance(v, (list, tuple)) and v else v
    return None


def request_cost(method: str, path: str, query: Mapping[str, Any] | None = None) -> tuple[int, bool]:
    """(resource units, is_write) of one identity-and-access request, per Microsoft's cost table.

    Modifiers: ``$select`` -1, ``$expand`` +1, ``$top`` below 20 -1; the cost never goes below 1.
    """
    m = method.upper()
    p = _normalise_path(path)
    q = query or {}
    write = False
    if m == "GET":
        base = next((c for rx, c in _GET_COSTS if rx.match(p)), 1)
    elif m == "POST":
        read_cost = next((c for rx, c in _READ_POSTS if rx.match(p)), None)
        base, write = (read_cost, False) if read_cost is not None else (1, True)
    elif m in _WRITE_METHODS:
        base, write = 1, True
    else:
        base = 1
    cost = base
    if _query_value(q, "select") is not None:
        cost -= 1
    if _query_value(q, "expand") is not None:
        cost += 1
    top = _query_value(q, "top")
    if top is not None:
        try:
            if int(str(top)) < 20:
                cost -= 1
        except ValueError:
            pass  # an invalid $top is the Graph side's 400 to give, not a cost question
    return max(cost, 1), write


def tenant_size(user_count: int) -> str:
    """Microsoft's tenant size band: S (< 50 users), M (50-500), L (> 500)."""
    if user_count < 50:
        return "S"
    return "M" if user_count <= 500 else "L"


class _Bucket:
    """A token bucket that may go into debt down to ``-0.8 * capacity`` (see module docstring)."""

    __slots__ = ("capacity", "rate", "tokens", "stamp")

    def __init__(self, capacity: float, rate: float, now: float):
        self.capacity, self.rate, self.tokens, self.stamp = capacity, rate, capacity, now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = max(self.stamp, now)

    def resize(self, capacity: float, rate: float) -> None:
        if capacity != self.capacity:
            self.tokens = min(self.tokens + capacity - self.capacity, capacity)
            self.capacity, self.rate = capacity, rate

    def charge(self, cost: float) -> None:
        self.tokens = max(self.tokens - cost, -0.8 * self.capacity)

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` units are available (0 when they are now)."""
        return 0.0 if self.tokens >= cost - _EPSILON else (cost - self.tokens) / self.rate

    def used_fraction(self) -> float:
        return (self.capacity - self.tokens) / self.capacity


@dataclass
class _Counts:
    admitted: int = 0
    throttled: int = 0


@dataclass
class _Stats:
    requests: int = 0
    admitted: int = 0
    throttled: int = 0
    resource_units: int = 0
    writes: int = 0
    per_limit: dict[str, _Counts] = field(default_factory=lambda: {n: _Counts() for n in LIMIT_NAMES})


class ThrottleModel:
    """Decides, per request, whether Graph would answer or throttle; thread-safe; clock injectable.

    ``clock`` returns seconds (monotonic); tests pass a fake clock to step time exactly.
    """

    def __init__(self, config: ThrottleConfig | None = None, clock: Callable[[], float] = time.monotonic):
        self.config = config or ThrottleConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self._stats = _Stats()

    # -- public ------------------------------------------------------------------------------------------
    def admit(self, tenant_id: str, app_id: str, method: str, path: str, query: Mapping[str, Any] | None = None,
              tenant_user_count: int = 0) -> Admission:
        """Charge one request to every limit that applies and say whether Graph would serve it."""
        p = _normalise_path(path)
        low = p.lower()
        if low == "/invitations" or low.startswith("/invitations/"):
            return self._admit_count("invitations.tenant", (tenant_id,), tenant_id, app_id)
        if low.startswith("/auditlogs"):
            return self._admit_count("reports.app_tenant", (app_id, tenant_id), tenant_id, app_id)
        if low.endswith("/provisionondemand"):
            return self._admit_count("provisionOnDemand.app_tenant", (app_id, tenant_id), tenant_id, app_id)
        return self._admit_identity(tenant_id, app_id, method, p, query or {}, tenant_user_count)

    def stats(self) -> dict[str, Any]:
        """Totals and admitted/throttled per limit (for benchmarks and tests); a snapshot copy."""
        with self._lock:
            s = self._stats
            return {
                "requests": s.requests, "admitted": s.admitted, "throttled": s.throttled,
                "resourceUnits": s.resource_units, "writes": s.writes,
                "limits": {n: {"admitted": c.admitted, "throttled": c.throttled} for n, c in s.per_limit.items()},
            }

    def reset(self) -> None:
        """Forget all usage and statistics (a fresh simulated service)."""
        with self._lock:
            self._buckets.clear()
            self._stats = _Stats()

    # -- internals ---------------------------------------------------------------------------------------
    def _bucket(self, name: str, key: tuple[str, ...], quota: int, window_s: float, now: float) -> _Bucket:
        window = window_s * self.config.time_scale
        b = self._buckets.get((name, *key))
        if b is None:
            b = self._buckets[(name, *key)] = _Bucket(float(quota), quota / window, now)
        else:
            b.refill(now)
            b.resize(float(quota), quota / window)
        return b

    def _verdict(self, applicable: list[tuple[str, _Bucket, float]], tenant_id: str, app_id: str,
                 headers: dict[str, str], ru: int, write: bool) -> Admission:
        """Throttle if any bucket lacks its cost; charge all of them either way (usage counts)."""
        cfg = self.config
        # The epsilon absorbs float drift, so a client that sleeps exactly Retry-After is admitted.
        short = [(n, b, c) for n, b, c in applicable if b.tokens < c - _EPSILON] if cfg.enabled else []
        for _, b, c in applicable:
            b.charge(c)
        s = self._stats
        s.requests += 1
        s.resource_units += ru
        s.writes += int(write)
        peak = max((b.used_fraction() for _, b, _ in applicable), default=0.0)
        if peak > 0.8:
            headers["x-ms-throttle-limit-percentage"] = f"{min(peak, 1.8):.2f}"
        if not short:
            s.admitted += 1
            for n, _, _ in applicable:
                s.per_limit[n].admitted += 1
            return Admission(True, None, headers, ru, write)
        s.throttled += 1
        for n, _, _ in short:
            s.per_limit[n].throttled += 1
        # Wait for the slowest limit; name the one that needs the longest wait as the scope.
        waits = [(b.wait_for(c), n) for n, b, c in applicable]
        wait, _ = max(waits)
        limit = max((b.wait_for(c), n) for n, b, c in short)[1]
        scope, limit_word, info = _LIMITS[limit]
        # Rounded up to the millisecond so that waiting exactly Retry-After is always enough.
        retry_after = max(math.ceil(wait * 1000 - 1e-6) / 1000, 0.001)
        headers["Retry-After"] = f"{retry_after:.3f}"
        headers["x-ms-throttle-scope"] = f"{scope}/{limit_word}/{app_id}/{tenant_id}"
        headers["x-ms-throttle-information"] = info
        return Admission(False, retry_after, headers, ru, write, limit)

    def _admit_identity(self, tenant_id: str, app_id: str, method: str, path: str, query: Mapping[str, Any],
                        users: int) -> Admission:
        cfg = self.config
        ru, write = request_cost(method, path, query)
        size = tenant_size(users)
        ru_quota = {"S": cfg.ru_small, "M": cfg.ru_medium, "L": cfg.ru_large}[size]
        with self._lock:
            now = self._clock()
            applicable = [
                ("ru.app_tenant", self._bucket("ru.app_tenant", (app_id, tenant_id), ru_quota, cfg.ru_window_s, now),
                 float(ru)),
                ("ru.app", self._bucket("ru.app", (app_id,), cfg.ru_app, cfg.ru_app_window_s, now), float(ru)),
            ]
            if write:
                applicable += [
                    ("write.app_tenant", self._bucket("write.app_tenant", (app_id, tenant_id), cfg.write_app_tenant,
                                                      cfg.write_app_tenant_window_s, now), 1.0),
                    ("write.tenant", self._bucket("write.tenant", (tenant_id,), cfg.write_tenant,
                                                  cfg.write_tenant_window_s, now), 1.0),
                    ("write.app", self._bucket("write.app", (app_id,), cfg.write_app, cfg.write_app_window_s, now),
                     1.0),
                ]
            return self._verdict(applicable, tenant_id, app_id, {"x-ms-resource-unit": str(ru)}, ru, write)

    def _admit_count(self, name: str, key: tuple[str, ...], tenant_id: str, app_id: str) -> Admission:
        cfg = self.config
        quota, window = {
            "invitations.tenant": (cfg.invitations_tenant, cfg.invitations_window_s),
            "reports.app_tenant": (cfg.reports_app_tenant, cfg.reports_window_s),
            "provisionOnDemand.app_tenant": (cfg.provision_on_demand, cfg.provision_on_demand_window_s),
        }[name]
        with self._lock:
            bucket = self._bucket(name, key, quota, window, self._clock())
            return self._verdict([(name, bucket, 1.0)], tenant_id, app_id, {}, 0, False)
