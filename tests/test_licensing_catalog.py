"""The licence catalog: bundled file, Microsoft's official CSV, documented additions and bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.errors import InputError
from toolkit.licensing import Catalog
from toolkit.licensing.build_catalog import main as build_main
from toolkit.licensing.catalog import (AAD_PREMIUM, AAD_PREMIUM_P2, ENTRA_IDENTITY_GOVERNANCE, LOOKALIKE_PLANS,
                                       OFFICIAL_CSV_PAGE, plan_entitlement)

REFERENCE = Path(__file__).parent / "fixtures" / "licensing"       # sources: SOURCES.md there
OFFICIAL = REFERENCE / "product-service-plan-identifiers.csv"
RESEARCH_CATALOG = REFERENCE / "license-catalog.csv"
HEADER = ("Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,"
          "Service_Plans_Included_Friendly_Names")
SUITE = "f9602137-2203-447b-9fff-41b36e08ce5d"
GOVERNANCE_SKU = "cf6b0d46-4093-4546-a0ab-0b1546dcc10e"
needs_reference = pytest.mark.skipif(not OFFICIAL.exists(), reason="research reference files not present")


def write(tmp_path: Path, text: str, name: str = "official.csv", bom: bool = False, crlf: bool = False) -> Path:
    if crlf:
        text = text.replace("\n", "\r\n")
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@needs_reference
def test_bundled_catalog_agrees_with_every_row_of_the_research_catalog():
    ours = Catalog.bundled().frame.set_index(["sku_id", "service_plan_id"])
    ref = pd.read_csv(RESEARCH_CATALOG, dtype=str, keep_default_na=False)
    assert len(ref) > 100
    for r in ref.itertuples(index=False):
        key = (r.sku_id, r.service_plan_id)
        assert key in ours.index, f"{r.sku_part_number} / {r.service_plan_name} missing from the bundled catalog"
        mine = ours.loc[key]
        assert mine["entitlement"] == r.entitlement, (r.sku_part_number, r.service_plan_name)
        assert mine["sku_part_number"] == r.sku_part_number.strip()


@needs_reference
def test_bundled_catalog_is_the_build_of_the_official_csv():
    built = Catalog.from_official_csv(OFFICIAL).frame
    bundled = Catalog.bundled().frame
    key = ["sku_id", "service_plan_id"]
    pd.testing.assert_frame_equal(built.sort_values(key).reset_index(drop=True),
                                  bundled.sort_values(key).reset_index(drop=True))


@needs_reference
def test_bundled_catalog_knows_every_sku_microsoft_lists():
    official = pd.read_csv(OFFICIAL, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    catalog = Catalog.bundled()
    guids = set(official["GUID"].str.strip().str.lower())
    assert len(guids) > 500
    assert all(catalog.knows_sku(g) for g in guids)
    assert not catalog.knows_sku("0badc0de-0000-4000-8000-000000000001")
    # Names are cleaned: no trailing whitespace, no NBSP.
    assert catalog.sku_part_number("de597797-22fb-4d65-a9fe-b7dbe8893914") == "AAD_PREMIUM_USGOV_GCCHIGH"
    assert catalog.sku_part_number("c2fe850d-fbbb-4858-b67d-bd0c6e746da3") == "O365_w/o Teams Bundle_M3"


def test_documented_additions_are_in_the_bundled_catalog():
    catalog = Catalog.bundled()
    assert catalog.sku_part_number(SUITE) == "Microsoft_Entra_Suite"
    assert set(catalog.sku_plans(SUITE)) >= {AAD_PREMIUM_P2, ENTRA_IDENTITY_GOVERNANCE}
    assert catalog.entitlement(ENTRA_IDENTITY_GOVERNANCE, SUITE) == "SUITE"
    assert catalog.entitlement(ENTRA_IDENTITY_GOVERNANCE, GOVERNANCE_SKU) == "GOVERNANCE"
    gov = set(catalog.skus_with("GOVERNANCE")["sku_part_number"])
    assert {"Microsoft_Entra_ID_Governance", "Microsoft_Entra_Suite", "MICROSOFT_365_E7",
            "Microsoft_Entra_Suite_Step_Up_for_Microsoft_Entra_ID_P2"} <= gov
    assert "AGENT_365" not in gov
    p1 = set(catalog.skus_with("P1")["sku_part_number"])
    assert {"AAD_PREMIUM", "SPE_E3", "IDENTITY_THREAT_PROTECTION", "Microsoft_Entra_Suite"} <= p1
    assert "ENTERPRISEPACK" not in p1 and "AAD_BASIC" not in p1


def test_lookalike_plans_have_no_entitlement():
    catalog = Catalog.bundled()
    for plan_id in LOOKALIKE_PLANS:
        assert plan_entitlement(plan_id) == ""
        assert catalog.is_lookalike(plan_id)
    table = catalog.entitlement_table()
    assert set(table["entitlement"]) == {"", "P1", "P2", "GOVERNANCE", "SUITE"}
    assert plan_entitlement(AAD_PREMIUM.upper()) == "P1"


def test_official_csv_with_bom_crlf_whitespace_and_nbsp(tmp_path):
    text = (HEADER + "\n"
            f"Microsoft Entra ID P1 ,AAD_PREMIUM_USGOV_GCCHIGH ,{{DE597797-22FB-4D65-A9FE-B7DBE8893914}},"
            f"AAD_PREMIUM\t,{AAD_PREMIUM},Microsoft Entra ID P1\n"
            f"\"Microsoft 365 E3 EEA (no Teams)\",O365_w/o\u00a0Teams Bundle_M3,c2fe850d-fbbb-4858-b67d-bd0c6e746da3,"
            f"AAD_PREMIUM,{AAD_PREMIUM},\"Microsoft Entra ID P1, friendly\"\n")
    catalog = Catalog.from_official_csv(write(tmp_path, text, bom=True, crlf=True))
    assert catalog.sku_part_number("de597797-22fb-4d65-a9fe-b7dbe8893914") == "AAD_PREMIUM_USGOV_GCCHIGH"
    assert catalog.product_name("de597797-22fb-4d65-a9fe-b7dbe8893914") == "Microsoft Entra ID P1"
    assert catalog.plan_name(AAD_PREMIUM) == "AAD_PREMIUM"
    assert catalog.sku_part_number("c2fe850d-fbbb-4858-b67d-bd0c6e746da3") == "O365_w/o Teams Bundle_M3"
    # The documented additions fill in what this tiny CSV lacks.
    assert catalog.knows_sku(SUITE) and catalog.notes and "Microsoft_Entra_Suite" in catalog.notes[0]


def test_official_csv_wins_over_an_addition_for_a_sku_it_lists(tmp_path):
    text = HEADER + "\n" + f"Microsoft Entra Suite,Microsoft_Entra_Suite,{SUITE},AAD_PREMIUM,{AAD_PREMIUM},P1\n"
    catalog = Catalog.from_official_csv(write(tmp_path, text))
    assert catalog.sku_plans(SUITE) == (AAD_PREMIUM,)


def test_changed_layout_names_file_columns_and_download_page(tmp_path):
    text = HEADER.replace("String_Id", "String_ID").replace("GUID", "Sku_Guid") + "\nx,y,z,a,b,c\n"
    path = write(tmp_path, text, name="Product names.csv")
    with pytest.raises(InputError) as exc:
        Catalog.from_official_csv(path)
    message = str(exc.value)
    assert "Product names.csv" in message
    assert "String_Id" in message and "GUID" in message
    assert "String_ID" in message and "Sku_Guid" in message
    assert OFFICIAL_CSV_PAGE in message
    assert exc.value.exit_code == 2


@pytest.mark.parametrize("text,expected", [
    ("", "empty"),
    (HEADER + "\n", "no rows"),
    (HEADER + "\nP,S,not-a-guid,AAD_PREMIUM,41781fb2-bc02-4b7c-bd55-b576c07bb09d,F\n", "not a GUID"),
])
def test_bad_official_csv_is_an_input_error(tmp_path, text, expected):
    with pytest.raises(InputError) as exc:
        Catalog.from_official_csv(write(tmp_path, text))
    assert expected in str(exc.value) and "official.csv" in str(exc.value)


def test_bad_guid_names_the_row(tmp_path):
    text = (HEADER + "\n" + f"P,S,{SUITE},AAD_PREMIUM,{AAD_PREMIUM},F\n"
            + "P,S,{SUITE},AAD_PREMIUM,41781fb2-XXXX,F\n".replace("{SUITE}", SUITE))
    with pytest.raises(InputError) as exc:
        Catalog.from_official_csv(write(tmp_path, text))
    assert exc.value.row == 3 and exc.value.field == "Service_Plan_Id"


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as exc:
        Catalog.from_official_csv(tmp_path / "nope.csv")
    assert "nope.csv" in str(exc.value)


def test_build_catalog_writes_a_loadable_file(tmp_path, capsys):
    text = (HEADER + "\n" + "Microsoft Entra ID P1,AAD_PREMIUM,078d2b04-f1bd-4111-bbd4-b4b1b354cef4,"
            f"AAD_PREMIUM,{AAD_PREMIUM},P1\n")
    out = tmp_path / "catalog.csv"
    assert build_main([str(write(tmp_path, text)), str(out)]) == 0
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert "078d2b04-f1bd-4111-bbd4-b4b1b354cef4" in set(written["sku_id"])
    assert SUITE in set(written["sku_id"])          # additions written too
    assert build_main([str(tmp_path / "missing.csv"), str(out)]) == 2
    assert "Error:" in capsys.readouterr().err
