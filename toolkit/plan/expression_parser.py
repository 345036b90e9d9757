"""Parsing a mapping expression into a tree (``Attr``, ``Const``, ``Call``, ``Compare``): tokens as Microsoft
documents them (attributes in [brackets], "strings" with backslash escapes, integers, function calls, the
comparison operators of IIF conditions), checked against the functions' names and arities. Errors name the
line and column."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import InputError
from .expression_functions import FUNCTIONS

__all__ = ["ExpressionError", "Attr", "Const", "Call", "Compare", "Parser"]


class ExpressionError(InputError):
    """A mapping expression that cannot be parsed or uses an unknown function; names line and column."""


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


class Parser:
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
