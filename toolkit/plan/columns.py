"""Column helpers the direct planner and the entra-engine predictor share: comparable text, lower-cased keys, the
durable link, stable operation ids, mapped values and the tenant header of a plan.

Column-wise on purpose: a per-value Python function in these paths dominated planning time at a million users.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..frames import TenantData
from .rules import BOOLEAN_TARGETS, Mapping

__all__ = ["LINK_PREFIX", "link_value", "op_id", "op_ids", "text_values", "lower_text", "as_objects",
           "keys_as_objects", "external_upn_to_address", "mapped_values", "mapped_rule_values", "verified_domains",
           "tenant_header", "on_premises_mastered", "KEY_COLUMNS"]

LINK_PREFIX = "ccsync"
KEY_COLUMNS = ("id", "userPrincipalName", "mail", "userType", "creationType")


def link_value(source_tenant_id: str, source_id: str) -> str:
    return f"{LINK_PREFIX}:{source_tenant_id}:{source_id}"


def op_id(kind: str, source_id: Any, target_id: Any) -> str:
    # Stable across re-planning, so a journal can recognise an operation it has already carried out.
    key = f"{kind}|{source_id or ''}|{target_id or ''}"
    return f"{kind[:3]}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


def op_ids(kind: str, source_ids: Iterable[Any], target_ids: Iterable[Any]) -> list[str]:
    """``op_id`` for many operations of one kind (the hash is per operation; the rest is hoisted)."""
    sha1, head = hashlib.sha1, f"{kind[:3]}-"
    return [head + sha1(f"{kind}|{s or ''}|{t or ''}".encode()).hexdigest()[:12]
            for s, t in zip(source_ids, target_ids)]


def text_values(series: pd.Series | np.ndarray) -> np.ndarray:
    """Values as comparable text in an object array: booleans as true/false, None for null."""
    if isinstance(series, np.ndarray):
        series = pd.Series(series, dtype="object")
    if str(series.dtype) in ("bool", "boolean"):
        arr = series.to_numpy(dtype=object, na_value=None)
        out = np.full(len(arr), None, dtype=object)
        out[arr == True] = "true"     # noqa: E712 (object array, elementwise)
        out[arr == False] = "false"   # noqa: E712
        return out
    arr = series.to_numpy(dtype=object, na_value=None)
    bools = np.fromiter((isinstance(v, (bool, np.bool_)) for v in arr), dtype=bool, count=len(arr)) \
        if series.dtype == object and len(arr) and isinstance(next((v for v in arr if v is not None), None),
                                                              (bool, np.bool_)) else None
    if bools is not None and bools.any():
        arr = arr.copy()
        arr[bools] = np.where(arr[bools].astype(bool), "true", "false")
    nulls = pd.isna(arr)
    if nulls.any():
        arr = arr.copy()
        arr[nulls] = None
    return arr


def lower_text(series: pd.Series) -> pd.Series:
    # Lower-case with Arrow, then back to object: pandas' isin/merge on Arrow strings go value by value.
    return as_objects(series.astype("string").str.lower())


def as_objects(series: pd.Series) -> pd.Series:
    return pd.Series(series.to_numpy(dtype=object, na_value=None), index=series.index, dtype="object")


def keys_as_objects(users: pd.DataFrame) -> pd.DataFrame:
    return users.assign(**{c: as_objects(users[c]) for c in KEY_COLUMNS if c in users.columns})


def external_upn_to_address(upn: pd.Series) -> pd.Series:
    """``john_contoso.com#EXT#@fabrikam.onmicrosoft.com`` -> ``john@contoso.com`` (last underscore is the @)."""
    def decode(value: object) -> object:
        if not isinstance(value, str):
            return None
        cut = value.find("#EXT#@")
        if cut < 0:
            return None
        local, sep, domain = value[:cut].rpartition("_")
        return f"{local}@{domain}".lower() if sep else None

    # A plain loop over the values beats Arrow's regex replace here (most target UPNs are external).
    return pd.Series([decode(v) for v in upn.to_numpy(dtype=object, na_value=None)], index=upn.index,
                     dtype="object")


def mapped_values(mapping: Mapping, users: pd.DataFrame) -> pd.DataFrame:
    """Each mapping rule's value per user, as the rule's expression computes it (booleans as true/false)."""
    out = {}
    for rule in mapping.rules:
        out[rule.target] = mapped_rule_values(rule, users)
    return pd.DataFrame(out, index=users.index)


def mapped_rule_values(rule: Any, users: pd.DataFrame) -> pd.Series:
    values = rule.expression.evaluate(users)
    if rule.target in BOOLEAN_TARGETS:
        text = text_values(values)
        lowered = pd.Series(text, dtype="object").str.lower().to_numpy(dtype=object, na_value=None)
        values = pd.Series(lowered, index=users.index, dtype="object")
    return values


def on_premises_mastered(users: pd.DataFrame) -> pd.Series:
    if "onPremisesSyncEnabled" not in users.columns:
        return pd.Series(False, index=users.index)
    return users["onPremisesSyncEnabled"].astype("boolean").fillna(False).astype(bool)


def verified_domains(tenant: TenantData) -> set[str]:
    d = tenant.domains
    if not len(d):
        return set()
    return set(d.loc[d["isVerified"].fillna(False).astype(bool), "id"].astype(str).str.lower())


def tenant_header(t: TenantData, in_scope: int | None = None, syncable: int | None = None) -> dict:
    out = {"tenantId": t.tenant_id, "cloud": t.cloud, "displayName": t.display_name,
           "exportedAt": t.exported_at, "users": int(len(t.users))}
    if in_scope is not None:
        out["usersInScope"] = in_scope
        out["usersSyncable"] = syncable
    return out
