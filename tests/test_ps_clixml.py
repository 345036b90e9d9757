"""Export-Clixml files (Get-MgUser, Get-MgSubscribedSku) read into the same frames as an export, and eligibility
and plans decided on them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.errors import InputError
from toolkit.export import load_tenant
from toolkit.frames import LICENSE_ASSIGNMENTS, SKUS, USERS
from toolkit.export.clixml import read_clixml, to_graph
from toolkit.licensing import evaluate_eligibility
from toolkit.plan import plan_sync

FIXTURES = Path(__file__).parent / "fixtures" / "clixml"


def test_reader_decodes_types_refs_nil_and_escapes():
    users = read_clixml(FIXTURES / "users.xml")
    assert len(users) == 3
    adele = to_graph(users[0])
    assert adele["userPrincipalName"] == "AdeleV@contoso.com" and adele["accountEnabled"] is True
    assert adele["@odata.type"] == "#microsoft.graph.user"          # from AdditionalProperties
    assert adele["licenseAssignmentStates"][0]["assignedByGroup"] is None   # <Nil>
    assert adele["licenseAssignmentStates"][1]["assignedByGroup"] == "a1b2c3d4-0000-4000-8000-00000000c001"
    assert adele["onPremisesExtensionAttributes"]["extensionAttribute1"] == "Cost center 4410"
    bianca = to_graph(users[1])                                     # type names through <TNRef>
    assert bianca["displayName"] == "Bianca Pisani & Sons"          # _x0026_
    assert to_graph(read_clixml(FIXTURES / "skus.xml")[0])["prepaidUnits"]["enabled"] == 25


def test_clixml_folder_loads_into_the_declared_frames():
    data = load_tenant(FIXTURES, cloud="commercial")
    assert list(data.users.columns) == USERS.names
    assert list(data.license_assignments.columns) == LICENSE_ASSIGNMENTS.names
    assert list(data.skus.columns) == SKUS.names
    assert data.users["createdDateTime"].dtype == "datetime64[ns, UTC]" or str(
        data.users["createdDateTime"].dtype).startswith("datetime64")
    assert data.users.set_index("userPrincipalName")["accountEnabled"].to_dict() == {
        "AdeleV@contoso.com": True, "BiancaP@contoso.com": True, "ChristieC@contoso.com": False}
    adele = data.license_assignments[data.license_assignments["userPrincipalName"] == "AdeleV@contoso.com"]
    assert sorted(adele["source"]) == ["direct", "group"]
    assert set(adele["skuPartNumber"]) == {"AAD_PREMIUM", "Microsoft_Entra_ID_Governance"}
    assert data.skus.set_index("skuPartNumber")["available"].to_dict() == {
        "AAD_PREMIUM": 23, "Microsoft_Entra_ID_Governance": 9}


def test_eligibility_runs_on_clixml_files():
    data = load_tenant(FIXTURES, cloud="commercial")
    result = evaluate_eligibility(data, "commercial", "gcch")
    status = result.users.set_index("userPrincipalName")["status"].to_dict()
    assert status == {"AdeleV@contoso.com": "eligible", "BiancaP@contoso.com": "missing_governance",
                      "ChristieC@contoso.com": "account_disabled"}


def test_a_plan_runs_on_clixml_files(tmp_path):
    source = load_tenant(FIXTURES / "users.xml", cloud="commercial", tenant_id="9b1c6e2a-6c40-4c3e-9f7b-2a1d0c5e7f10")
    target = load_tenant(FIXTURES, cloud="commercial", tenant_id="9b1c6e2a-6c40-4c3e-9f7b-2a1d0c5ee0ff")
    plan = plan_sync(source, target)
    assert len(plan.ops) >= 1 and set(plan.ops["kind"]) <= {"create", "update", "disable", "delete", "conflict",
                                                              "blocked"}


def test_a_file_that_is_not_clixml_names_the_file(tmp_path):
    bad = tmp_path / "users.xml"
    bad.write_text("<Objects><Object/></Objects>", encoding="utf-8")
    with pytest.raises(InputError, match="not an Export-Clixml file") as info:
        load_tenant(bad)
    assert str(bad) in info.value.message and info.value.hint


def test_an_object_of_another_type_names_its_position(tmp_path):
    other = tmp_path / "procs.xml"
    other.write_text('<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
                     '<Obj RefId="0"><TN RefId="0"><T>System.Diagnostics.Process</T></TN><Props>'
                     '<S N="Name">pwsh</S></Props></Obj></Objs>', encoding="utf-8")
    with pytest.raises(InputError, match="object #1 is a System.Diagnostics.Process"):
        load_tenant(other)


def test_truncated_xml_is_an_input_error(tmp_path):
    cut = tmp_path / "users.xml"
    cut.write_text((FIXTURES / "users.xml").read_text(encoding="utf-8")[:700], encoding="utf-8")
    with pytest.raises(InputError, match="not well-formed XML"):
        load_tenant(cut)
