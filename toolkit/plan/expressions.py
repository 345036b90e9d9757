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

This module owns ``Expression`` (what a parsed expression reads, and evaluating it over a frame) and
``parse_expression``; the parser is ``expression_parser.py``, the functions ``expression_functions.py``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import InputError
from .expression_functions import FUNCTIONS, CondResult, bool_result, compare
from .expression_parser import Attr, Call, Compare, Const, ExpressionError, Parser

__all__ = ["Expression", "parse_expression", "ExpressionError", "FUNCTIONS"]


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
                return CondResult(compare(idx, node.op, ev(node.left), ev(node.right)))
            args = [ev(a) for a in node.args]
            if node.name != "IIF":
                args = [bool_result(a.mask) if isinstance(a, CondResult) else a for a in args]
            return FUNCTIONS[node.name].impl(idx, *args)

        result = ev(self.tree)
        if isinstance(result, CondResult):
            return bool_result(result.mask)
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
    return Expression(stripped, Parser(stripped, where).parse())
