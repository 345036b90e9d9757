"""Each default lives in one place, toolkit/defaults.py: the CLI's options default to it (read through the command
registry), the cmdlets leave it to ccsync (no PowerShell default for those parameters), and every cmdlet help
text and README/docs sentence that states one of these defaults states the current value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from ps_source import PUBLIC, declared_parameters, functions, help_comment, parse, walk
from toolkit import defaults
from toolkit.cli.main import cli
from toolkit.cli.registry import describe_tree

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
        ROOT / "ps" / "CrossCloudSync" / "en-US" / "about_CrossCloudSync.help.txt"]


@dataclass(frozen=True)
class Default:
    name: str            # in toolkit/defaults.py
    option: str          # the CLI option
    parameter: str       # the cmdlet parameter
    words: str           # how prose names it (regex)
    spellings: tuple[str, ...]   # how prose may state the value

    @property
    def value(self) -> object:
        return getattr(defaults, self.name)


DEFAULTS = [
    Default("DELETION_THRESHOLD", "--deletion-threshold", "DeletionThreshold",
            r"deletion[- ]threshold|DeletionThreshold|accidental[- ]deletions?(?: threshold)?",
            (str(defaults.DELETION_THRESHOLD),)),
    Default("LINK_ATTRIBUTE", "--link-attribute", "LinkAttribute", r"link[- ]attribute|LinkAttribute",
            (defaults.LINK_ATTRIBUTE,)),
    Default("CREATE_AS", "--create-as", "CreateAs", r"create[- ]as\b|CreateAs", (defaults.CREATE_AS,)),
    Default("ON_DEPROVISION", "--on-deprovision", "OnDeprovision", r"on[- ]deprovision|OnDeprovision",
            (defaults.ON_DEPROVISION,)),
    Default("ALLOW_DELETES", "--allow-deletes", "AllowDeletes", r"allow[- ]deletes|AllowDeletes",
            (str(defaults.ALLOW_DELETES), "none")),
]
ANY_WORDS = re.compile("|".join(f"(?:{d.words})" for d in DEFAULTS), re.I)


def test_every_default_is_a_constant_of_toolkit_defaults():
    assert sorted(d.name for d in DEFAULTS) == sorted(defaults.__all__)


@pytest.mark.parametrize("default", DEFAULTS, ids=lambda d: d.option)
def test_cli_options_default_to_toolkit_defaults(default):
    found = [(entry["path"], p["default"]) for entry in describe_tree(cli)["commands"] for p in entry["params"]
             if default.option in p["opts"]]
    assert found, f"no ccsync command has {default.option}"
    wrong = [(path, value) for path, value in found if value != default.value]
    assert not wrong, f"{default.option} must default to toolkit.defaults.{default.name} = {default.value!r}: {wrong}"


def _script_parameter_defaults(path: Path) -> dict[str, str]:
    """{parameter: default text} for the parameters of a cmdlet that declare a PowerShell default."""
    out = {}
    for node in walk(parse(path).root_node):
        if node.type != "script_parameter":
            continue
        name = next(c for c in node.children if c.type == "variable")
        default = next((c for c in node.children if c.type == "script_parameter_default"), None)
        if default is not None:
            out[name.text.decode().lstrip("$")] = default.text.decode().lstrip("= ").strip()
    return out


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.stem)
def test_cmdlets_leave_these_defaults_to_ccsync(path):
    """A PowerShell default would be a second copy: the parameter stays unbound and ccsync's default applies."""
    repeated = {p: v for p, v in _script_parameter_defaults(path).items() if p in {d.parameter for d in DEFAULTS}}
    assert not repeated, f"{path.name}: drop the PowerShell default of {repeated} (ccsync's applies when unbound)"


def _clauses(sentence: str) -> list[tuple[Default, str]]:
    """Each mention of a default in a sentence, with the text up to the next mention (or the sentence's end)."""
    out = []
    mentions = list(ANY_WORDS.finditer(sentence))
    for index, match in enumerate(mentions):
        end = mentions[index + 1].start() if index + 1 < len(mentions) else len(sentence)
        default = next(d for d in DEFAULTS if re.fullmatch(d.words, match.group(0), re.I))
        out.append((default, sentence[match.start():end]))
    return out


def _states_value(default: Default, clause: str) -> bool:
    return any(re.search(rf"(?<![\w.]){re.escape(s)}(?![\w])", clause, re.I) for s in default.spellings)


_ITEM = re.compile(r"^\s*(?:[-*+] |\d+\. |\||#|\.[A-Z]+\b)")


def _sentences(text: str) -> list[tuple[int, str]]:
    """(line, sentence): paragraphs, list items, table rows, headings and code lines each on their own, split
    into sentences at '.', '!' or '?' followed by a space."""
    units: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    in_code = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("```"):
            in_code, current = not in_code, None
        elif in_code:
            units.append((number, [line]))
        elif not line.strip():
            current = None
        elif current is None or _ITEM.match(line):
            current = [line]
            units.append((number, current))
        else:
            current.append(line)
    out = []
    for first, lines in units:
        block = "\n".join(lines)
        position = 0
        for sentence in re.split(r"(?<=[.!?])\s+", block):
            offset = block.index(sentence, position)
            position = offset + len(sentence)
            if sentence.strip():
                out.append((first + block.count("\n", 0, offset), sentence))
    return out


def _wrong_statements(text: str) -> list[tuple[int, str, Default]]:
    """(line, sentence, default) for each sentence that says a default of ours without its current value."""
    wrong = []
    for line, sentence in _sentences(text):
        if "default" not in sentence.lower():
            continue
        for default, clause in _clauses(sentence):
            if re.search(r"default", clause, re.I) and not _states_value(default, clause):
                wrong.append((line, " ".join(sentence.split()), default))
    return wrong


def test_the_parameter_reader_sees_a_powershell_default(tmp_path):
    # Guards test_cmdlets_leave_these_defaults_to_ccsync: the form the cmdlets used before issue 14.
    script = tmp_path / "Enable-X.ps1"
    script.write_text("function Enable-X { param([ValidateRange(0, 100000)] [int] $DeletionThreshold = 500, "
                      "[string] $Name) }", encoding="utf-8")
    assert _script_parameter_defaults(script) == {"DeletionThreshold": "500"}


def test_the_sentence_reader_catches_a_stale_value():
    # Guards the next tests: a stale number is found, with its line; the current one passes.
    stale = "Intro.\n\nThe deletion threshold defaults to 400 per cycle. The link attribute is extensionAttribute15 by default."
    assert [(line, d.name) for line, _, d in _wrong_statements(stale)] == [(3, "DELETION_THRESHOLD")]
    assert not _wrong_statements(f"--create-as (default {defaults.CREATE_AS}) and --on-deprovision "
                                 f"(default {defaults.ON_DEPROVISION}).")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_docs_state_the_current_defaults(path):
    wrong = _wrong_statements(path.read_text(encoding="utf-8"))
    assert not wrong, "\n".join(f"{path.relative_to(ROOT)}:{line}: states a default of {d.option} without "
                                f"{d.value!r} (toolkit/defaults.py {d.name}): {sentence}"
                                for line, sentence, d in wrong)


def _parameter_help(path: Path) -> dict[str, tuple[int, str]]:
    """{parameter: (line in the file, its .PARAMETER text)} from the cmdlet's comment-based help."""
    func = functions(path)[0]
    comment = help_comment(func)
    start_line = path.read_text(encoding="utf-8")[:path.read_text(encoding="utf-8").index(comment)].count("\n") + 1
    out = {}
    for match in re.finditer(r"^\s*\.PARAMETER[ \t]+(\w+)[ \t]*\n(.*?)(?=^\s*\.[A-Z]+\b|#>)", comment, re.M | re.S):
        out[match.group(1)] = (start_line + comment[:match.start()].count("\n") + 1, match.group(2))
    return out


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.stem)
def test_cmdlet_help_states_the_current_defaults(path):
    declared = set(declared_parameters(functions(path)[0]))
    wrong = []
    for parameter, (line, body) in _parameter_help(path).items():
        default = next((d for d in DEFAULTS if d.parameter == parameter), None)
        if default is None or parameter not in declared:
            continue
        if re.search(r"default", body, re.I) and not _states_value(default, body):
            wrong.append(f"{path.relative_to(ROOT)}:{line}: -{parameter}'s help states a default without "
                         f"{default.value!r} (toolkit/defaults.py {default.name}): {' '.join(body.split())}")
    for line, sentence, default in _wrong_statements(help_comment(functions(path)[0])):
        wrong.append(f"{path.relative_to(ROOT)} (help, line {line} of the comment): states a default of "
                     f"{default.option} without {default.value!r}: {sentence}")
    assert not wrong, "\n".join(wrong)
