"""Mapping expressions and scoping filters behave as Microsoft documents them; bad files point at the line."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.errors import InputError
from toolkit.plan.expressions import ExpressionError, parse_expression
from toolkit.plan.rules import default_mapping, load_mapping, load_scope, parse_mapping, parse_scope

USERS = pd.DataFrame({
    "givenName": ["Zoë", "Jürgen", None],
    "surname": ["Smith", "Groß", "Doe"],
    "country": ["USA", "DE", None],
    "department": ["Sales", "R&D", ""],
    "mail": ["a@contoso.com", None, "c@contoso.com"],
    "userPrincipalName": ["a@contoso.com", "b@contoso.com", "c@contoso.com"],
    "telephoneNumber": ["+91 9998887777", "", None],
    "accountEnabled": pd.array([True, False, None], dtype="boolean"),
    "employeeId": ["50", "200", None],
})


def ev(text: str) -> list:
    return parse_expression(text).evaluate(USERS).tolist()


@pytest.mark.parametrize("expression, expected", [
    ('Join(" ", [givenName], [surname])', ["Zoë Smith", "Jürgen Groß", "Doe"]),
    ('NormalizeDiacritics(Join(".", [givenName], [surname]))', ["Zoe.Smith", "Jurgen.Gross", "Doe"]),
    ('ToLower(Append([surname], "@fabrikam.com"))', ["smith@fabrikam.com", "groß@fabrikam.com", "doe@fabrikam.com"]),
    ('ToUpper([country])', ["USA", "DE", None]),
    ('Coalesce([mail], [userPrincipalName])', ["a@contoso.com", "b@contoso.com", "c@contoso.com"]),
    # Documented: a condition on a null attribute is false.
    ('IIF([country]="USA", [country], [department])', ["USA", "R&D", ""]),
    ('IIF([employeeId]>100, "big", "small")', ["small", "big", "small"]),
    # Documented: Switch compares case-sensitively and a null source matches the key "".
    ('Switch([country], "Other", "USA", "United States", "", "Unknown")', ["United States", "Other", "Unknown"]),
    ('Left([givenName], 1)', ["Z", "J", ""]),                      # documented: null -> ""
    ('Mid([surname], 2, 3)', ["mit", "roß", "oe"]),
    ('Trim("  padded  ")', ["padded"] * 3),
    ('StripSpaces("a b c")', ["abc"] * 3),
    ('Replace([mail], "@contoso.com", , , "@fabrikam.com", , )', ["a@fabrikam.com", None, "c@fabrikam.com"]),
    ('Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )', ["a", "b", "c"]),
    ('Replace([telephoneNumber], , "\\\\+(?<isd>\\\\d* )(?<num>\\\\d{10})", , "${num}", , )',
     ["9998887777", "", None]),
    ('Replace([givenName], "<n>", , , , , "<n>@contoso.com")', ["Zoë@contoso.com", "Jürgen@contoso.com", None]),
    ('IsPresent([department])', ["True", "True", "False"]),
    # Documented: IsNull is true only for a null value; an empty string is not null (IsNullOrEmpty says so).
    ('IsNull([country])', ["False", "False", "True"]),
    ('IsNull([department])', ["False", "False", "False"]),
    ('IsNullOrEmpty([department])', ["False", "False", "True"]),
    ('Not([accountEnabled])', ["False", "True", "True"]),
    ('"Member"', ["Member"] * 3),
    ('"Company: \\"Contoso\\""', ['Company: "Contoso"'] * 3),
])
def test_documented_functions(expression, expected):
    assert ev(expression) == expected


@pytest.mark.parametrize("text, message", [
    ('join(" ", [a])', "did you mean Join"),
    ('Join(" ", [a]', "expected ')'"),
    ("Left([a])", "Left takes 2 arguments"),
    ("Frobnicate([a])", "unknown function 'Frobnicate'"),
    ("[a] [b]", "unexpected '[b]'"),
    ('"unterminated', "unexpected character"),
])
def test_expression_errors_name_position_and_fix(text, message):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, source="m.map", line=3)
    assert message in str(info.value) and "m.map" in str(info.value) and "row 3" in str(info.value)


def test_mapping_file_errors_point_at_file_and_line(tmp_path):
    path = tmp_path / "bad.map"
    path.write_text("displayName = [displayName]\n\n# comment\ngivenName = Join(\" \", [givenName]\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_mapping(path)
    assert str(path) in str(info.value) and "row 4" in str(info.value)


@pytest.mark.parametrize("text, message", [
    ("displayName [displayName]", "cannot read"),
    ("proxyAddresses = [mail]", "read-only"),
    ("showInAddressList = \"true\"", "only be set when the user is created"),
    ("jobTitle = [a]\njobTitle = [b]", "mapped twice"),
    ("# only comments\n", "no mappings"),
])
def test_mapping_file_refusals(text, message):
    with pytest.raises(InputError, match=message):
        parse_mapping(text, "m.map")


def test_default_mapping_mirrors_entra_defaults():
    mapping = default_mapping()
    targets = {r.target: r.flow for r in mapping.rules}
    assert targets["userType"] == "once" and targets["showInAddressList"] == "once"
    assert targets["displayName"] == "always" and targets["accountEnabled"] == "always"
    assert "manager" not in targets


def test_comment_inside_string_is_kept():
    mapping = parse_mapping('department = "R&D # lab"  # trailing comment\n')
    assert mapping.rules[0].expression.evaluate(USERS).tolist()[0] == "R&D # lab"


def test_scoping_filters_and_within_or_between_and_null_is_false():
    scope = parse_scope('filter Sales\n    department EQUALS "Sales"\n    accountEnabled IS TRUE\n'
                        'filter Big\n    employeeId GREATER_THAN 100\n')
    assert scope.filter_mask(USERS).tolist() == [True, True, False]
    assert parse_scope('filter f\n    country NOT EQUALS "USA"\n').filter_mask(USERS).tolist() == [False, True, False]
    assert parse_scope('filter f\n    country IS NULL\n').filter_mask(USERS).tolist() == [False, False, True]


def test_equals_is_case_sensitive_like_entra():
    assert parse_scope('filter f\n    department EQUALS "sales"\n').filter_mask(USERS).tolist() == [False] * 3


def test_regex_and_ends_with_and_includes():
    assert parse_scope('filter f\n    mail ENDS_WITH "@contoso.com"\n').filter_mask(USERS).tolist() == \
        [True, False, True]
    assert parse_scope('filter f\n    surname REGEX MATCH "^S"\n').filter_mask(USERS).tolist() == [True, False, False]
    assert parse_scope('filter f\n    surname INCLUDES "ro"\n').filter_mask(USERS).tolist() == [False, True, False]


@pytest.mark.parametrize("text, message", [
    ("filter X\n", "has no clauses"),
    ("something else\n", "cannot read"),
    ('filter A\n    userType EQUALS "Member"\n', "cannot be used in a scoping filter"),
    ('filter A\n    department LIKE "x"\n', "unknown operator"),
    ('filter A\n    employeeId GREATER_THAN "ten"\n', "integers only"),
    ('filter A\n    mail REGEX MATCH "("\n', "invalid regular expression"),
    ("group\n", "needs a group name"),
])
def test_scoping_file_errors(text, message, tmp_path):
    path = tmp_path / "scope.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        load_scope(path)
    assert str(path) in str(info.value)
