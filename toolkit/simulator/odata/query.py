"""OData query options of the simulated Graph other than ``$filter``: advanced-query detection, ``$top``,
``$select`` (and projecting an object onto it), opaque page tokens, and the ``$search`` / ``$expand`` checks.

Documented behaviour followed here (graph-facts.md 6.1, 6.4):

* ``$top`` on /users is 1..999; anything else is ``400 Request_BadRequest`` "Invalid page size specified: '1000'.
  Must be between 1 and 999 inclusive."
* advanced queries need ``ConsistencyLevel: eventual`` and ``$count=true``;
* ``$search`` and ``$expand`` that Graph refuses are refused here too, not ignored (``check_query_options``).
  Which navigation properties the simulator really expands is not known here: the caller passes them
  (``modelled``, collected by ``toolkit.simulator.registry`` from the families that expand them).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import AbstractSet, Any, Mapping

from .errors import GraphFault, bad_request, unsupported_query

__all__ = ["is_advanced", "has_eventual", "parse_top", "parse_select", "project", "encode_token", "decode_token",
           "new_snapshot_key", "check_query_options", "search_matches"]


def is_advanced(headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
    """Advanced query capabilities: ConsistencyLevel eventual AND $count=true (graph-facts.md 6.4)."""
    level = next((v for k, v in headers.items() if k.lower() == "consistencylevel"), "")
    return level.strip().lower() == "eventual" and str(query.get("$count", "")).lower() == "true"


def has_eventual(headers: Mapping[str, str]) -> bool:
    return next((v for k, v in headers.items() if k.lower() == "consistencylevel"), "").strip().lower() == "eventual"


# --- $top / $select ---------------------------------------------------------------------------------------

def parse_top(query: Mapping[str, str], default: int, maximum: int = 999) -> int:
    raw = query.get("$top")
    if raw is None:
        return default
    try:
        top = int(raw)
    except ValueError:
        raise bad_request(f"Invalid page size specified: '{raw}'. Must be between 1 and {maximum} inclusive.")
    if not 1 <= top <= maximum:
        raise bad_request(f"Invalid page size specified: '{raw}'. Must be between 1 and {maximum} inclusive.")
    return top


def parse_select(query: Mapping[str, str], known: set[str], type_name: str) -> list[str] | None:
    """The $select list, checked against the type's properties (Graph: 400 for an unknown property)."""
    raw = query.get("$select")
    if raw is None or not raw.strip():
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    lower = {k.lower(): k for k in known}
    out = []
    for name in names:
        if name == "*":
            out.extend(sorted(known))
            continue
        real = lower.get(name.lower())
        if real is None:
            raise GraphFault(400, "BadRequest", f"Could not find a property named '{name}' on type '{type_name}'.")
        out.append(real)
    return list(dict.fromkeys(out))


def project(obj: Mapping[str, Any], props: list[str], collections: set[str]) -> dict[str, Any]:
    """The object reduced to ``props`` in that order; absent values are null (or [] for collections)."""
    return {p: (obj.get(p) if obj.get(p) is not None else ([] if p in collections else None)) for p in props}


# --- opaque tokens ----------------------------------------------------------------------------------------

def encode_token(data: Mapping[str, Any]) -> str:
    """Opaque to clients: URL-safe base64 of compact JSON (clients must use nextLink verbatim)."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        pad = "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + pad))
        if not isinstance(data, dict):
            raise ValueError
        return data
    except (ValueError, TypeError):
        raise bad_request("Invalid page token: the skip token was not issued by this service.") from None


def new_snapshot_key() -> str:
    return uuid.uuid4().hex[:16]


# --- $search / $expand ------------------------------------------------------------------------------------

# Navigation properties of user and group in v1.0 that $expand may name (user and group resource pages).
_NAVIGATION = {
    "user": {"manager", "directreports", "memberof", "transitivememberof", "ownedobjects", "owneddevices",
             "registereddevices", "createdobjects", "licensedetails", "extensions", "approleassignments",
             "oauth2permissiongrants", "sponsors"},
    "group": {"members", "transitivemembers", "memberof", "transitivememberof", "owners", "createdonbehalfof",
              "extensions", "approleassignments", "settings"},
}
# Properties $search can name (tokenized search on directory objects: aad-advanced-queries.md).
_SEARCHABLE = {"user": {"displayname", "mail", "userprincipalname", "givenname", "surname", "mailnickname",
                        "othermails", "proxyaddresses", "jobtitle", "department"},
               "group": {"displayname", "description", "mail", "mailnickname", "proxyaddresses"}}
_SEARCH_CLAUSE = re.compile(r'^"(?P<prop>[A-Za-z]+):(?P<value>[^"]*)"$')


def check_query_options(headers: Mapping[str, str], query: Mapping[str, str], type_name: str, *,
                        searchable: bool, modelled: Mapping[str, AbstractSet[str]]) -> None:
    """Refuse the $search and $expand that Graph refuses, instead of ignoring them (docs/graph-facts.md 6.4).

    * ``$search`` needs ``ConsistencyLevel: eventual`` (else ``Request_UnsupportedQuery``), works on collections
      only, and each clause is ``"property:value"`` on a searchable property.
    * ``$expand`` is not supported together with advanced queries, and only navigation properties expand.
      ``modelled`` names, per type, the navigation properties a simulator family really expands (manager.py:
      ``manager``); the rest are refused with 501 rather than silently ignored.
    """
    search = next((v for k, v in query.items() if k.lower() == "$search"), None)
    if search is not None:
        if not searchable:
            raise bad_request("Query option '$search' is not allowed for this request.", "BadRequest")
        if not has_eventual(headers):
            raise unsupported_query("Request with $search query parameter only works through MSGraph with a "
                                    "special request header: 'ConsistencyLevel: eventual'")
        for clause in _search_clauses(search):
            m = _SEARCH_CLAUSE.match(clause)
            if not m or m.group("prop").lower() not in _SEARCHABLE[type_name]:
                raise unsupported_query(f"Unsupported or invalid query search clause specified: {clause}")
    expand = next((v for k, v in query.items() if k.lower() == "$expand"), None)
    if expand is not None:
        if is_advanced(headers, query):
            raise unsupported_query("The $expand query option is not supported with advanced queries "
                                    "(ConsistencyLevel: eventual and $count).")
        for name in (n.strip().split("(")[0] for n in _top_level_items(expand) if n.strip()):
            if name.lower() not in _NAVIGATION[type_name]:
                raise GraphFault(400, "BadRequest", f"Property '{name}' on type 'microsoft.graph.{type_name}' is "
                                 "not a navigation property or complex property. Only navigation properties can "
                                 "be expanded.")
            if name.lower() in modelled.get(type_name, ()):
                continue
            # Graph expands these; the simulator does not model them, and says so rather than ignore them.
            raise GraphFault(501, "NotImplemented", f"$expand={name} is not modelled by the ccsync simulator.")


def _top_level_items(text: str) -> list[str]:
    """Split an ``$expand`` list on the commas outside parentheses (``manager($select=id,displayName),memberOf``)."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


def _search_clauses(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"\s+(?:AND|OR)\s+", text.strip()) if c.strip()]


def search_matches(text: str, obj: Mapping[str, Any], default_props: tuple[str, ...]) -> bool:
    """Tokenized $search: a clause matches when a word of the property starts with the value (any clause:
    OR; the docs' AND is approximated as OR too; fine for the look-ups ccsync and tests make)."""
    for clause in _search_clauses(text):
        m = _SEARCH_CLAUSE.match(clause)
        if not m:
            continue
        prop = next((p for p in obj if p.lower() == m.group("prop").lower()), m.group("prop"))
        value = m.group("value").lower()
        raw = obj.get(prop)
        values = raw if isinstance(raw, list) else [raw]
        for v in values:
            words = re.split(r"[\s@._\-:]+", str(v or "").lower())
            if str(v or "").lower().startswith(value) or any(w.startswith(value) for w in words if w):
                return True
    return False
