"""The README's promises that a newcomer acts on: the two quick-start commands, CI running the same test
command (tests/test_ci_run.py runs it), and every ccsync command the README shows being a real command with real options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from toolkit.cli.main import cli
from toolkit.cli.registry import describe_tree

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

DEMO_LINE = "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/ccsync demo"
TEST_LINE = "python3 -m venv .venv && .venv/bin/pip install -q '.[test,interop]' && .venv/bin/python -m pytest"


def _quick_start_blocks() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_quick_start_is_exactly_two_commands():
    assert _quick_start_blocks() == [DEMO_LINE, TEST_LINE]


def _ccsync_lines() -> list[list[str]]:
    """Every ccsync command line in the README's bash blocks, split into words (comments dropped)."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            words: list[str] = []
            for token in list(lexer) + [";"]:
                if token in (";", "&&", "&", "|", ">", "||"):
                    if words and words[0].endswith("ccsync"):
                        lines.append(words)
                    words = [] if token != ">" else ["(redirect)"]
                else:
                    words.append(token)
    return lines


def test_every_ccsync_command_in_the_readme_exists_with_its_options():
    registry = {entry["path"]: entry for entry in describe_tree(cli)["commands"]}
    global_opts = {o for p in describe_tree(cli)["globalParams"] for o in p["opts"]}
    lines = _ccsync_lines()
    assert len(lines) >= 10
    for words in lines:
        args = words[1:]
        path: list[str] = []
        while args and not args[0].startswith("-") and " ".join(path + [args[0]]) in registry:
            path.append(args.pop(0))
        assert path, f"README shows an unknown command: {' '.join(words)}"
        entry = registry[" ".join(path)]
        known = {o for p in entry["params"] for o in p["opts"]} | global_opts
        for word in args:
            if word.startswith("-"):
                assert word.split("=", 1)[0] in known, f"{' '.join(words)}: {word} is not an option"
