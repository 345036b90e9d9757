"""A documented subset of Entra's attribute-mapping expression language, evaluated column-wise over pandas.

Syntax as Microsoft documents it ("Reference for writing expressions for attribute mappings in Microsoft Entra
ID"): ``FunctionName(arg, ...)`` with attributes in square brackets (``[givenName]``), string constants in
double quotes with backslash escapes (``"Company: \\"Contoso\\""``), integers, nested functions, and in IIF
conditions the comparison operators ``=  <>  >  >=  <  <=``. Function names are case-sensitive, as in Entra.

Functions ccsync supports, with Entra's semantics (where Entra's page is silent, ccsync's choice is stated):

=====================  ============================================================================================
Append(source, suffix)  source + suffix; null source gives null (ccsync: nothing to provision, as Entra skips nulls)
Join(sep, s1, s2, ...)  non-empty values joined with sep; null/empty values are skipped (ccsync); all null -> null
Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template)
                        the five documented forms: oldValue+replacementValue; oldValue+template;
                        regexPattern+replacementValue (``${group}`` references); regexPattern+regexGroupName+
                        replacementValue; regexPattern+regexGroupName+replacementAttributeName (source if present)
ToLower(source[, culture]) / ToUpper(source[, culture])   invariant culture (culture is accepted and ignored)
Trim(source)            leading/trailing white space removed (Entra Cloud Sync's Trim)
StripSpaces(source)     every space character removed
Coalesce(s1, ..., default)  first non-null source (an empty string is a value); else the last argument
IIF(condition, ifTrue, ifFalse)  a condition on a null or empty attribute is false (documented limitation)
Switch(source, default, key1, value1, ...)  case-sensitive; a null source matches the key "" (documented)
Left(string, n)         n=0 -> ""; n<0 -> the string; null -> "" (documented)
Mid(source, start, length)  1-based start; past the end -> the rest
NormalizeDiacritics(source)  Microsoft's table (ß->ss, æ->ae, ø->oe, œ->oe), then Unicode decomposition
PCase(source)           first letter of each word upper case, the rest lower case
IsPresent(x), IsNull(x), IsNullOrEmpty(x), Not(x)  booleans ("True"/"False" when written to a string attribute)
CStr(x)                 string form; booleans as "True"/"False"
=====================  ============================================================================================
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["Expression", "parse_expression", "ExpressionError", "FUNCTIONS"]


class ExpressionError(InputError):
    """A mapping expression that cannot be parsed or uses an unknown function; names line and column."""


# --- parsing --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attr:
    name: str


@dataclass(frozen=True)
class Const:
    value: Any          # str, int or None (an omitted optional argument)


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple
    col: int


@dataclass(frozen=True)
class Compare:
    op: str
    left: Any
    right: Any


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<attr>\[[^\]\[]*\])
  | (?P<string>"(?:\\.|[^"\\])*")
  | (?P<number>-?\d+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><>|>=|<=|=|>|<)
  | (?P<punct>[(),])
""", re.VERBOSE)


def _tokenize(text: str, where: Callable[[int], dict]) -> list[tuple[str, str, int]]:
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExpressionError(f"unexpected character {text[pos]!r} at column {pos + 1} of {text!r}",
                                  hint="Attributes go in [square brackets], text in \"double quotes\".", **where(pos))
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(), pos))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str, where: Callable[[int], dict]):
        self.text, self.where = text, where
        self.tokens = _tokenize(text, where)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, message: str, pos: int, hint: str | None = None) -> ExpressionError:
        return ExpressionError(f"{message} at column {pos + 1} of {self.text!r}", hint=hint, **self.where(pos))

    def expect(self, value: str) -> None:
        kind, text, pos = self.take()
        if text != value:
            raise self.fail(f"expected '{value}' but found {text!r}" if text else f"expected '{value}'", pos,
                            hint="Check that every '(' has its ')' and arguments are separated by commas.")

    def parse(self) -> Any:
        node = self.comparison()
        kind, text, pos = self.peek()
        if kind != "end":
            raise self.fail(f"unexpected {text!r} after a complete expression", pos)
        return node

    def comparison(self) -> Any:
        left = self.primary()
        kind, text, pos = self.peek()
        if kind == "op":
            self.take()
            return Compare(text, left, self.primary())
        return left

    def primary(self) -> Any:
        kind, text, pos = self.take()
        if kind == "attr":
            name = text[1:-1].strip()
            if not name:
                raise self.fail("empty attribute name []", pos)
            return Attr(name)
        if kind == "string":
            return Const(re.sub(r"\\(.)", r"\1", text[1:-1]))
        if kind == "number":
            return Const(int(text))
        if kind == "name":
            if text not in FUNCTIONS:
                close = [f for f in FUNCTIONS if f.lower() == text.lower()]
                hint = (f"Function names are case-sensitive: did you mean {close[0]}?" if close else
                        f"Supported functions: {', '.join(sorted(FUNCTIONS))}.")
                raise self.fail(f"unknown function '{text}'", pos, hint=hint)
            self.expect("(")
            args: list[Any] = []
            if self.peek()[1] != ")":
                while True:
                    if self.peek()[1] in (",", ")"):
                        args.append(Const(None))          # an omitted optional argument: Replace(x, , , ...)
                    else:
                        args.append(self.comparison())
                    if self.peek()[1] == ",":
                        self.take()
                        continue
                    break
            self.expect(")")
            spec = FUNCTIONS[text]
            if not spec.min_args <= len(args) <= spec.max_args:
                want = (f"{spec.min_args}" if spec.min_args == spec.max_args else
                        f"{spec.min_args} to {spec.max_args if spec.max_args < 99 else 'any number of'}")
                raise self.fail(f"{text} takes {want} arguments, got {len(args)}", pos, hint=f"Usage: {spec.usage}")
            return Call(text, tuple(args), pos)
        if kind == "end":
            raise self.fail("the expression ends too early", pos)
        raise self.fail(f"unexpected {text!r}", pos)


# --- evaluation -----------------------------------------------------------------------------------------

def _is_null(s: pd.Series) -> pd.Series:
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
    c = _bools(cond, idx) if not isinstance(cond, _CondResult) else cond.mask
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


class _CondResult:
    def __init__(self, mask: pd.Series):
        self.mask = mask


def _bool_result(mask: pd.Series) -> pd.Series:
    return mask.map({True: "True", False: "False"}).astype("object")


def _is_present(idx, x):
    return _bool_result(~_blank(_strings(x, idx)))


def _is_null(idx, x):
    return _bool_result(_is_null(_strings(x, idx)))


def _is_null_or_empty(idx, x):
    return _bool_result(_blank(_strings(x, idx)))


def _not(idx, x):
    return _bool_result(~_bools(x, idx))


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


def _compare(idx: pd.Index, op: str, left: Any, right: Any) -> pd.Series:
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


class Expression:
    """A parsed mapping expression. ``evaluate(frame)`` returns one value per row (object Series)."""

    def __init__(self, text: str, tree: Any):
        self.text = text
        self.tree = tree

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    @property
    def attributes(self) -> set[str]:
        """Source attributes the expression reads."""
        found: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, Attr):
                found.add(node.name)
            elif isinstance(node, Call):
                for a in node.args:
                    walk(a)
            elif isinstance(node, Compare):
                walk(node.left)
                walk(node.right)
        walk(self.tree)
        return found

    @property
    def is_direct(self) -> bool:
        return isinstance(self.tree, Attr)

    @property
    def is_constant(self) -> bool:
        return isinstance(self.tree, Const)

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        idx = frame.index

        def ev(node: Any) -> Any:
            if isinstance(node, Attr):
                if node.name not in frame.columns:
                    raise InputError(f"the source has no attribute [{node.name}] (expression {self.text!r})",
                                     hint="Use a Graph user property name, e.g. [department].")
                return frame[node.name]
            if isinstance(node, Const):
                return node.value
            if isinstance(node, Compare):
                return _CondResult(_compare(idx, node.op, ev(node.left), ev(node.right)))
            args = [ev(a) for a in node.args]
            if node.name != "IIF":
                args = [_bool_result(a.mask) if isinstance(a, _CondResult) else a for a in args]
            return FUNCTIONS[node.name].impl(idx, *args)

        result = ev(self.tree)
        if isinstance(result, _CondResult):
            return _bool_result(result.mask)
        if not isinstance(result, pd.Series):
            return pd.Series([result] * len(idx), index=idx, dtype="object")
        if str(result.dtype) in ("boolean", "bool"):
            return result
        result = result.astype("object")                  # pandas 3 infers str dtype; keep one null: None
        return result.where(result.notna(), None)


def parse_expression(text: str, *, source: str | None = None, line: int | None = None,
                     column_offset: int = 0) -> Expression:
    """Parse one expression; errors name the file, line and column."""

    def where(pos: int) -> dict:
        return {"source": source, "row": line, "field": f"column {column_offset + pos + 1}"} if source or line \
            else {}

    stripped = text.strip()
    if not stripped:
        raise ExpressionError("empty expression", **where(0))
    return Expression(stripped, _Parser(stripped, where).parse())
