"""The functions of the mapping-expression language (Append, Join, Replace, ... CStr; the table in
``expressions.py``), each evaluated column-wise over pandas Series, with ``FUNCTIONS`` (name -> arity, usage,
implementation) and the comparisons of IIF conditions."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from ..errors import InputError

__all__ = ["FUNCTIONS", "FunctionSpec", "CondResult", "bool_result", "compare"]


def _null_mask(s: pd.Series) -> pd.Series:
    return s.isna()


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("string").fillna("") == "")


def _strings(v: Any, index: pd.Index) -> pd.Series:
    """The argument as an object Series of str/None (booleans rendered the way Entra renders them)."""
    if isinstance(v, pd.Series):
        s = v
    else:
        s = pd.Series([v] * len(index), index=index, dtype="object")
    if s.dtype == "boolean" or s.dtype == bool:
        return s.map(lambda x: None if pd.isna(x) else ("True" if x else "False")).astype("object")
    out = s.astype("object")
    return out.where(out.notna(), None)


def _bools(v: Any, index: pd.Index) -> pd.Series:
    s = _strings(v, index)
    return s.map(lambda x: x is not None and str(x).lower() == "true").astype(bool)


def _scalar(v: Any, what: str) -> Any:
    if isinstance(v, pd.Series):
        raise InputError(f"{what} must be a constant, not an attribute or expression")
    return v


@dataclass(frozen=True)
class FunctionSpec:
    min_args: int
    max_args: int
    usage: str
    impl: Callable[..., Any]


def _append(idx, source, suffix):
    s, x = _strings(source, idx), _strings(suffix, idx)
    return (s + x.fillna("")).where(s.notna(), None)


def _join(idx, sep, *sources):
    # Column-wise: acc is NA until a non-empty value arrives, then grows by sep + value.
    sep_value = _scalar(sep, "Join's separator") or ""
    acc = pd.Series(pd.NA, index=idx, dtype="string")
    for src in sources:
        part = _strings(src, idx).astype("string")
        part = part.where(part != "", pd.NA)
        acc = acc.where(part.isna(), acc.where(acc.isna(), acc + sep_value + part).fillna(part))
    return acc.astype("object").where(acc.notna(), None)


def _replace(idx, source, old=None, pattern=None, group=None, replacement=None, replacement_attr=None,
             template=None):
    s = _strings(source, idx)
    old_v, pat, grp = (_scalar(old, "Replace's oldValue"), _scalar(pattern, "Replace's regexPattern"),
                       _scalar(group, "Replace's regexGroupName"))
    tmpl = _scalar(template, "Replace's template")
    if pat is not None:
        rx = re.compile(pat.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!"))
        if grp is not None and replacement_attr is not None and replacement is None:
            other = _strings(replacement_attr, idx)

            def extract(v: Any) -> Any:
                if v is None:
                    return None
                m = rx.search(v)
                return m.group(grp) if m else None
            return s.where(~_blank(s), other.map(extract))
        rep = _strings(replacement, idx) if replacement is not None else pd.Series("", index=idx)
        rep_const = None if isinstance(replacement, pd.Series) else (replacement or "")
        if grp is not None:
            def sub_group(v: Any, r: Any) -> Any:
                if v is None:
                    return None

                def one(m: re.Match) -> str:
                    start, end = m.start(grp) - m.start(), m.end(grp) - m.start()
                    whole = m.group()
                    return whole[:start] + (r or "") + whole[end:] if m.start(grp) >= 0 else whole
                return rx.sub(one, v)
            return pd.Series([sub_group(v, rep_const if rep_const is not None else r)
                              for v, r in zip(s, rep)], index=idx, dtype="object")
        dotnet = re.compile(r"\$\{(\w+)\}")

        def sub_all(v: Any, r: Any) -> Any:
            if v is None:
                return None
            return rx.sub(lambda m: dotnet.sub(lambda g: m.group(g.group(1)) or "", r or ""), v)
        return pd.Series([sub_all(v, rep_const if rep_const is not None else r) for v, r in zip(s, rep)],
                         index=idx, dtype="object")
    if old_v is None:
        raise InputError("Replace needs oldValue or regexPattern",
                         hint='Example: Replace([mail], "@contoso.com", , , "@fabrikam.com", , )')
    if tmpl is not None:
        return s.map(lambda v: None if v is None else tmpl.replace(old_v, v))
    if isinstance(replacement, pd.Series):
        rep = _strings(replacement, idx)
        return pd.Series([None if v is None else v.replace(old_v, r or "") for v, r in zip(s, rep)],
                         index=idx, dtype="object")
    return s.map(lambda v: None if v is None else v.replace(old_v, replacement or ""))


def _case(method: str):
    def impl(idx, source, culture=None):
        s = _strings(source, idx)
        return getattr(s.astype("string").str, method)().astype("object").where(s.notna(), None)
    return impl


def _trim(idx, source):
    s = _strings(source, idx)
    return s.astype("string").str.strip().astype("object").where(s.notna(), None)


def _strip_spaces(idx, source):
    s = _strings(source, idx)
    return s.astype("string").str.replace(" ", "", regex=False).astype("object").where(s.notna(), None)


def _coalesce(idx, *args):
    if len(args) == 1:
        return _strings(args[0], idx)
    out = _strings(args[0], idx)
    for a in args[1:]:
        out = out.where(out.notna(), _strings(a, idx))
    return out


def _iif(idx, cond, if_true, if_false):
    c = _bools(cond, idx) if not isinstance(cond, CondResult) else cond.mask
    t, f = _strings(if_true, idx), _strings(if_false, idx)
    return t.where(c.values, f)


def _switch(idx, source, default, *pairs):
    if len(pairs) % 2:
        raise InputError("Switch takes key/value pairs after the source and the default",
                         hint='Example: Switch([state], "Other", "NSW", "Sydney", "QLD", "Brisbane")')
    s = _strings(source, idx).where(lambda x: x.notna(), "")
    out = _strings(default, idx)
    matched = pd.Series(False, index=idx)
    for key, value in zip(pairs[0::2], pairs[1::2]):
        k = _strings(key, idx)
        hit = (s == k.fillna("")) & ~matched
        out = out.where(~hit, _strings(value, idx))
        matched |= hit
    return out


def _left(idx, string, n):
    count = _scalar(n, "Left's NumChars")
    s = _strings(string, idx).where(lambda x: x.notna(), "")
    if count is None or int(count) < 0:
        return s
    return s.astype("string").str.slice(0, int(count)).astype("object")


def _mid(idx, source, start, length):
    st, ln = int(_scalar(start, "Mid's start")), int(_scalar(length, "Mid's length"))
    s = _strings(source, idx)
    return s.astype("string").str.slice(max(st - 1, 0), max(st - 1, 0) + max(ln, 0)).astype(
        "object").where(s.notna(), None)


_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "oe", "Ø": "OE", "œ": "oe", "Œ": "OE",
                          "ł": "l", "Ł": "L", "ı": "i", "ǣ": "ae", "Ǣ": "AE"})


def _normalize_one(v: str) -> str:
    v = v.translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", v)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _normalize_diacritics(idx, source):
    s = _strings(source, idx)
    uniques = {v: _normalize_one(v) for v in s.dropna().unique()}   # names repeat: map each once
    return s.map(lambda v: None if v is None else uniques[v])


def _pcase(idx, source, separators=None):
    s = _strings(source, idx)
    return s.astype("string").str.title().astype("object").where(s.notna(), None)


class CondResult:
    def __init__(self, mask: pd.Series):
        self.mask = mask


def bool_result(mask: pd.Series) -> pd.Series:
    return mask.map({True: "True", False: "False"}).astype("object")


def _is_present(idx, x):
    return bool_result(~_blank(_strings(x, idx)))


def _is_null(idx, x):
    return bool_result(_null_mask(_strings(x, idx)))


def _is_null_or_empty(idx, x):
    return bool_result(_blank(_strings(x, idx)))


def _not(idx, x):
    return bool_result(~_bools(x, idx))


def _cstr(idx, x):
    return _strings(x, idx)


FUNCTIONS: dict[str, FunctionSpec] = {
    "Append": FunctionSpec(2, 2, "Append([userPrincipalName], \".test\")", _append),
    "Join": FunctionSpec(2, 99, "Join(\" \", [givenName], [surname])", _join),
    "Replace": FunctionSpec(2, 7, "Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, "
                                  "replacementAttributeName, template)", _replace),
    "ToLower": FunctionSpec(1, 2, "ToLower([mailNickname])", _case("lower")),
    "ToUpper": FunctionSpec(1, 2, "ToUpper([country])", _case("upper")),
    "Trim": FunctionSpec(1, 1, "Trim([displayName])", _trim),
    "StripSpaces": FunctionSpec(1, 1, "StripSpaces([givenName])", _strip_spaces),
    "Coalesce": FunctionSpec(1, 99, "Coalesce([mail], [userPrincipalName])", _coalesce),
    "IIF": FunctionSpec(3, 3, "IIF([country]=\"USA\", [country], [department])", _iif),
    "Switch": FunctionSpec(2, 99, "Switch([state], \"Other\", \"NSW\", \"Sydney\")", _switch),
    "Left": FunctionSpec(2, 2, "Left([givenName], 1)", _left),
    "Mid": FunctionSpec(3, 3, "Mid([givenName], 1, 2)", _mid),
    "NormalizeDiacritics": FunctionSpec(1, 1, "NormalizeDiacritics([surname])", _normalize_diacritics),
    "PCase": FunctionSpec(1, 2, "PCase([displayName])", _pcase),
    "IsPresent": FunctionSpec(1, 1, "IsPresent([department])", _is_present),
    "IsNull": FunctionSpec(1, 1, "IsNull([department])", _is_null),
    "IsNullOrEmpty": FunctionSpec(1, 1, "IsNullOrEmpty([department])", _is_null_or_empty),
    "Not": FunctionSpec(1, 1, "Not([accountEnabled])", _not),
    "CStr": FunctionSpec(1, 1, "CStr([accountEnabled])", _cstr),
}


def compare(idx: pd.Index, op: str, left: Any, right: Any) -> pd.Series:
    lv, rv = _strings(left, idx), _strings(right, idx)
    valid = ~_blank(lv) & rv.notna()        # documented: a null or empty attribute makes the condition false
    if op in ("=", "<>"):
        eq = (lv.fillna("") == rv.fillna(""))
        mask = eq if op == "=" else ~eq
    else:
        ln, rn = pd.to_numeric(lv, errors="coerce"), pd.to_numeric(rv, errors="coerce")
        numeric = ln.notna() & rn.notna()
        ls, rs = lv.fillna("").astype(str), rv.fillna("").astype(str)
        ops = {">": (ln > rn, ls > rs), ">=": (ln >= rn, ls >= rs), "<": (ln < rn, ls < rs),
               "<=": (ln <= rn, ls <= rs)}
        num_mask, str_mask = ops[op]
        mask = num_mask.where(numeric, str_mask).astype(bool)
    return (mask & valid).astype(bool)
