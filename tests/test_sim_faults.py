"""Fault and latency injection: seeded rates, filters, and the CLI spec parser's errors."""

from __future__ import annotations

import threading

import pytest

from toolkit.errors import InputError
from toolkit.simulator.faults import Fault, FaultConfig, FaultInjector

N = 20_000


def run(cfg: FaultConfig, n: int = N, method: str = "GET", path: str = "/v1.0/users") -> list[Fault | None]:
    inj = FaultInjector(cfg)
    return [inj.decide(method, path) for _ in range(n)]


def test_rates_are_within_tolerance_for_a_seed():
    cfg = FaultConfig(p429=0.10, p503=0.02, p504=0.01, p_reset=0.01, p_slow=0.05, seed=7)
    faults = run(cfg)
    counts = {k: sum(1 for f in faults if f and f.kind == k) for k in ("429", "503", "504", "reset", "slow")}
    for kind, rate in (("429", 0.10), ("503", 0.02), ("504", 0.01), ("reset", 0.01), ("slow", 0.05)):
        # 4 standard deviations of a binomial: a correct injector fails this about never.
        sigma = (N * rate * (1 - rate)) ** 0.5
        assert abs(counts[kind] - N * rate) < 4 * sigma, (kind, counts[kind])


def test_same_seed_same_faults_and_different_seed_different_faults():
    cfg = FaultConfig(p429=0.2, p_reset=0.1, seed=42)
    a = [f.kind if f else None for f in run(cfg, 500)]
    b = [f.kind if f else None for f in run(cfg, 500)]
    c = [f.kind if f else None for f in run(FaultConfig(p429=0.2, p_reset=0.1, seed=43), 500)]
    assert a == b
    assert a != c


def test_fault_details_carry_retry_after_and_slow_delay():
    inj = FaultInjector(FaultConfig(p429=1.0, retry_after_s=2.5, seed=1))
    f = inj.decide("PATCH", "/users/x")
    assert f == Fault("429", delay_s=0.0, retry_after=2.5)
    assert FaultInjector(FaultConfig(p503=1.0, seed=1)).decide("GET", "/users").retry_after == 1.0
    assert FaultInjector(FaultConfig(p504=1.0, seed=1)).decide("GET", "/users").retry_after is None
    slow = FaultInjector(FaultConfig(p_slow=1.0, slow_ms=1500, seed=1)).decide("GET", "/users")
    assert slow.kind == "slow" and slow.delay_s == pytest.approx(1.5)


def test_no_faults_by_default():
    assert all(f is None for f in run(FaultConfig(), 1000))


def test_method_and_path_filters_limit_where_faults_land():
    cfg = FaultConfig(p503=1.0, methods=("post", "PATCH"), paths=("/v1.0/users/*", "*/assignLicense"), seed=3)
    inj = FaultInjector(cfg)
    assert inj.decide("GET", "/v1.0/users/abc") is None             # method filtered out
    assert inj.decide("PATCH", "/v1.0/groups/abc") is None          # path filtered out
    assert inj.decide("PATCH", "/v1.0/users/abc").kind == "503"
    assert inj.decide("POST", "/v1.0/groups/g/assignLicense?x=1").kind == "503"
    s = inj.stats()
    assert (s["decisions"], s["eligible"], s["injected"], s["faults"]["503"]) == (4, 2, 2, 2)


def test_latency_is_base_plus_bounded_jitter():
    inj = FaultInjector(FaultConfig(latency_ms=100, jitter_ms=20, seed=5))
    values = [inj.latency() for _ in range(2000)]
    assert min(values) >= 0.100 and max(values) <= 0.120
    assert max(values) - min(values) > 0.015           # the jitter is really there
    assert inj.stats()["latencySeconds"] == pytest.approx(sum(values), rel=1e-6)
    assert FaultInjector(FaultConfig()).latency() == 0.0


def test_injector_is_thread_safe():
    inj = FaultInjector(FaultConfig(p429=0.5, seed=9))

    def worker() -> None:
        for _ in range(2000):
            inj.decide("GET", "/users")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = inj.stats()
    assert s["decisions"] == 8000
    assert abs(s["faults"]["429"] - 4000) < 4 * (8000 * 0.25) ** 0.5


def test_spec_parses_rates_durations_and_lists():
    cfg = FaultConfig.from_spec("429=0.1, 503=2%, reset=0.01, latency=100ms, jitter=0.02s, lag=2s, "
                                "retry_after=1500ms, slow=0.05, slow_ms=3s, seed=11, methods=post|patch, "
                                "paths=/v1.0/users*")
    assert (cfg.p429, cfg.p503, cfg.p_reset, cfg.p_slow) == (0.1, 0.02, 0.01, 0.05)
    assert cfg.latency_ms == pytest.approx(100) and cfg.jitter_ms == pytest.approx(20)
    assert cfg.replication_lag_s == 2 and cfg.retry_after_s == pytest.approx(1.5)
    assert cfg.slow_ms == pytest.approx(3000)
    assert cfg.seed == 11 and cfg.methods == ("POST", "PATCH") and cfg.paths == ("/v1.0/users*",)
    # Bare numbers: milliseconds for latency, seconds for lag.
    bare = FaultConfig.from_spec("latency=250,lag=3")
    assert bare.latency_ms == 250 and bare.replication_lag_s == 3
    assert FaultConfig.from_spec("") == FaultConfig()
    assert FaultInjector(FaultConfig.from_spec("lag=1m")).replication_lag == 60


@pytest.mark.parametrize("spec, field, words", [
    ("429", "429", "key=value"),
    ("418=0.1", "418", "unknown fault key"),
    ("429=lots", "429", "not a probability"),
    ("503=1.5", "503", "between 0 and 1"),
    ("latency=fast", "latency", "not a duration"),
    ("lag=-2s", "lag", "not a duration"),
    ("seed=abc", "seed", "not an integer"),
    ("methods=FETCH", "methods", "HTTP methods"),
    ("429=0.1,429=0.2", "429", "twice"),
    ("429=0.6,503=0.6", "rates", "add up to 1.2"),
])
def test_bad_specs_raise_input_error_naming_the_key(spec, field, words):
    with pytest.raises(InputError) as exc:
        FaultConfig.from_spec(spec)
    assert exc.value.field == field
    assert words in str(exc.value)
    assert exc.value.hint


def test_config_rejects_bad_values_directly():
    with pytest.raises(InputError, match="outside 0..1"):
        FaultConfig(p429=-0.1)
    with pytest.raises(InputError, match="negative"):
        FaultConfig(latency_ms=-1)
