"""The licence catalog: which service plans each Microsoft SKU carries, and which plans grant what.

Two sources, one shape:

* ``Catalog.bundled()`` reads ``toolkit/data/license-catalog.csv``, derived by ``build_catalog.py`` from
  Microsoft's official "Product names and service plan identifiers for licensing" CSV plus the documented
  additions below. It lists every SKU of that CSV with all its plan GUIDs, so ``knows_sku`` answers for any
  SKU Microsoft publishes.
* ``Catalog.from_official_csv(path)`` reads a newer copy of Microsoft's CSV (``--catalog FILE``) and merges
  the documented additions for SKUs that copy still lacks.

Entitlements are decided on service-plan GUIDs, never on SKU or plan names (licensing-facts sections 0, 2, 3):

=============  ==========================================================================================
entitlement    plan
=============  ==========================================================================================
P1             ``AAD_PREMIUM`` 41781fb2-bc02-4b7c-bd55-b576c07bb09d
P2             ``AAD_PREMIUM_P2`` eec0eb4f-6444-4f95-aba0-50c24d67f998 (a P1 check accepts it too)
GOVERNANCE     ``Entra_Identity_Governance`` e866a266-3cff-43a3-acca-0c90a7e00c8b
SUITE          the same Governance plan on the two Microsoft Entra Suite SKUs (satisfies GOVERNANCE)
(empty)        every other plan, including the look-alikes AAD_SMB, AAD_BASIC, AAD_EDU, AAD_BASIC_EDU,
               ENTRA_ID_GOV_FOR_ASSISTIVE_AGENTS and INFO_GOVERNANCE, which grant nothing here
=============  ==========================================================================================
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..errors import InputError

__all__ = [
    "Catalog", "OFFICIAL_COLUMNS", "CATALOG_COLUMNS", "BUNDLED_COLUMNS", "OFFICIAL_CSV_PAGE", "OFFICIAL_CSV_URL",
    "AAD_PREMIUM", "AAD_PREMIUM_P2", "ENTRA_IDENTITY_GOVERNANCE", "P1_PLANS", "GOVERNANCE_PLANS",
    "LOOKALIKE_PLANS", "SUITE_SKUS", "DOCUMENTED_ADDITIONS", "plan_entitlement",
]

AAD_PREMIUM = "41781fb2-bc02-4b7c-bd55-b576c07bb09d"
AAD_PREMIUM_P2 = "eec0eb4f-6444-4f95-aba0-50c24d67f998"
ENTRA_IDENTITY_GOVERNANCE = "e866a266-3cff-43a3-acca-0c90a7e00c8b"

P1_PLANS: dict[str, str] = {AAD_PREMIUM: "AAD_PREMIUM", AAD_PREMIUM_P2: "AAD_PREMIUM_P2"}
GOVERNANCE_PLANS: dict[str, str] = {ENTRA_IDENTITY_GOVERNANCE: "Entra_Identity_Governance"}

# Plans whose names look like an entitlement but grant none (licensing-facts section 3).
LOOKALIKE_PLANS: dict[str, str] = {
    "de377cbc-0019-4ec2-b77c-3f223947e102": "AAD_SMB",
    "c4da7f8a-5ee2-4c99-a7e1-87d2df57f6fe": "AAD_BASIC",
    "3a3976ce-de18-4a87-a78e-5e9245e252df": "AAD_EDU",
    "1d0f309f-fdf9-4b2a-9ae7-9c48b91f1426": "AAD_BASIC_EDU",
    "a9e85e05-1687-4958-8a4c-bdacda2943db": "ENTRA_ID_GOV_FOR_ASSISTIVE_AGENTS",
    "e26c2fcc-ab91-4a61-b35c-03cdc8dddf66": "INFO_GOVERNANCE",
}

# The Governance plan is labelled SUITE on these SKUs (Microsoft Entra Suite; Suite add-on for P2).
SUITE_SKUS = frozenset({"f9602137-2203-447b-9fff-41b36e08ce5d", "2ef3064c-c95c-426c-96dd-9ffeaa2f2c37"})

OFFICIAL_COLUMNS = ("Product_Display_Name", "String_Id", "GUID", "Service_Plan_Name", "Service_Plan_Id",
                    "Service_Plans_Included_Friendly_Names")
CATALOG_COLUMNS = ("sku_id", "sku_part_number", "product_name", "service_plan_id", "service_plan_name",
                   "entitlement", "source")
# The bundled file holds one row per SKU (a third of the size of one row per plan); plans are ';'-joined.
BUNDLED_COLUMNS = ("sku_id", "sku_part_number", "product_name", "entitlements", "source", "service_plan_ids",
                   "service_plan_names")
OFFICIAL_CSV_PAGE = "https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference"
OFFICIAL_CSV_URL = ("https://download.microsoft.com/download/e/3/e/e3e9faf2-f28b-490a-9ada-c6089a1fc5b0/"
                    "Product%20names%20and%20service%20plan%20identifiers%20for%20licensing.csv")

_E_SUITE = "f9602137-2203-447b-9fff-41b36e08ce5d"
_E_SUITE_P2 = "2ef3064c-c95c-426c-96dd-9ffeaa2f2c37"
_E5_NO_TEAMS = "18a4bd3f-0b5b-4887-b04f-61dd0ee15f5e"
_E7 = "9a18296a-025f-4e37-9ffa-30bf8d1ce775"
_AGENT_365 = "796a6fb4-740b-4d36-bf56-9c12ca7fa069"
_SUITE_EXTRA_PLANS = (
    ("8d23cb83-ab07-418f-8517-d7aca77307dc", "Entra_Premium_Internet_Access"),
    ("f057aab1-b184-49b2-85c0-881b02a405c5", "Entra_Premium_Private_Access"),
    ("aae826b7-14cd-4691-8178-2b312f7072ea", "Verifiable_Credentials_Service_Request"),
)

# SKUs missing from (older copies of) Microsoft's CSV, with the plans licensing-facts documents for them.
# Merged only when the official CSV lacks the SKU entirely; the official CSV wins for SKUs it lists.
# Rows: (sku_id, sku_part_number, product_name, plan_id, plan_name, source tag of licensing-facts).
DOCUMENTED_ADDITIONS: tuple[tuple[str, str, str, str, str, str], ...] = (
    *((_E_SUITE, "Microsoft_Entra_Suite", "Microsoft Entra Suite", pid, pname, "addition:S4+S5")
      for pid, pname in ((AAD_PREMIUM_P2, "AAD_PREMIUM_P2"),
                         (ENTRA_IDENTITY_GOVERNANCE, "Entra_Identity_Governance"), *_SUITE_EXTRA_PLANS)),
    *((_E_SUITE_P2, "Microsoft_Entra_Suite_Step_Up_for_Microsoft_Entra_ID_P2",
       "Microsoft Entra Suite Add-on for Microsoft Entra ID P2", pid, pname, "addition:S1")
      for pid, pname in ((ENTRA_IDENTITY_GOVERNANCE, "Entra_Identity_Governance"), *_SUITE_EXTRA_PLANS)),
    # S2-only SKUs: only their entitlement and look-alike plans are documented (partial plan lists).
    (_E5_NO_TEAMS, "Microsoft_365_E5_(no_Teams)", "Microsoft 365 E5 (no Teams)", AAD_PREMIUM, "AAD_PREMIUM",
     "addition:S2 (entitlement plans only)"),
    (_E5_NO_TEAMS, "Microsoft_365_E5_(no_Teams)", "Microsoft 365 E5 (no Teams)", AAD_PREMIUM_P2,
     "AAD_PREMIUM_P2", "addition:S2 (entitlement plans only)"),
    *((_E7, "MICROSOFT_365_E7", "Microsoft 365 E7", pid, pname, "addition:S2 (entitlement plans only)")
      for pid, pname in ((AAD_PREMIUM, "AAD_PREMIUM"), (AAD_PREMIUM_P2, "AAD_PREMIUM_P2"),
                         (ENTRA_IDENTITY_GOVERNANCE, "Entra_Identity_Governance"),
                         ("a9e85e05-1687-4958-8a4c-bdacda2943db", "ENTRA_ID_GOV_FOR_ASSISTIVE_AGENTS"),
                         *_SUITE_EXTRA_PLANS)),
    (_AGENT_365, "AGENT_365", "Agent 365", "a9e85e05-1687-4958-8a4c-bdacda2943db",
     "ENTRA_ID_GOV_FOR_ASSISTIVE_AGENTS", "addition:S2 (entitlement plans only)"),
)

_BUNDLED: "Catalog | None" = None
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def plan_entitlement(plan_id: str, sku_id: str | None = None) -> str:
    """'P1', 'P2', 'GOVERNANCE' or 'SUITE' (the Governance plan on an Entra Suite SKU); '' for any other plan."""
    pid = _norm_guid(plan_id)
    if pid == AAD_PREMIUM:
        return "P1"
    if pid == AAD_PREMIUM_P2:
        return "P2"
    if pid == ENTRA_IDENTITY_GOVERNANCE:
        return "SUITE" if sku_id is not None and _norm_guid(sku_id) in SUITE_SKUS else "GOVERNANCE"
    return ""


def _norm_guid(value: object) -> str:
    return str(value or "").strip().strip("{}").lower()


def _clean_text(series: pd.Series) -> pd.Series:
    """Trim stray whitespace and turn non-breaking spaces into plain spaces (Microsoft's CSV has both)."""
    return series.astype(str).str.replace("\u00a0", " ", regex=False).str.strip()


@dataclass
class Catalog:
    """SKU x service plan rows (columns ``CATALOG_COLUMNS``), with lookups used by eligibility and reports."""

    frame: pd.DataFrame
    source: str = "bundled"
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        f = self.frame
        self._sku_part = dict(zip(f["sku_id"], f["sku_part_number"]))
        self._sku_name = dict(zip(f["sku_id"], f["product_name"]))
        self._plans: dict[str, tuple[str, ...]] = {
            sku: tuple(plans) for sku, plans in f.groupby("sku_id", sort=False)["service_plan_id"]}
        self._plan_names = dict(zip(f["service_plan_id"], f["service_plan_name"]))

    # --- loading -------------------------------------------------------------------------------------------

    @classmethod
    def bundled(cls) -> "Catalog":
        """The catalog shipped in ``toolkit/data/license-catalog.csv``; read once per process (treat as read-only)."""
        global _BUNDLED
        if _BUNDLED is None:
            _BUNDLED = cls._read_bundled()
        return _BUNDLED

    @classmethod
    def _read_bundled(cls) -> "Catalog":
        """Parse the bundled file (one row per SKU, plans ';'-joined) into the long frame."""
        ref = resources.files("toolkit").joinpath("data/license-catalog.csv")
        with ref.open("r", encoding="utf-8", newline="") as fh:
            skus = pd.read_csv(fh, dtype=str, keep_default_na=False)
        missing = [c for c in BUNDLED_COLUMNS if c not in skus.columns]
        if missing:
            raise InputError(f"the bundled licence catalog lacks the columns {', '.join(missing)}.",
                             source=str(ref), hint="Reinstall ccsync, or rebuild the file with "
                             "'python -m toolkit.licensing.build_catalog OFFICIAL.csv'.")
        ids = skus["service_plan_ids"].str.split(";")
        names = skus["service_plan_names"].str.split(";")
        if (ids.str.len() != names.str.len()).any():
            bad = int((ids.str.len() != names.str.len()).to_numpy().nonzero()[0][0])
            raise InputError("plan ids and plan names do not pair up.", source=str(ref), row=bad + 2,
                             field="service_plan_names", hint="Rebuild the file with build_catalog.")
        frame = skus[["sku_id", "sku_part_number", "product_name", "source"]].assign(
            service_plan_id=ids, service_plan_name=names).explode(["service_plan_id", "service_plan_name"])
        frame["entitlement"] = [plan_entitlement(p, s) for p, s in zip(frame["service_plan_id"], frame["sku_id"])]
        return cls(frame[list(CATALOG_COLUMNS)].reset_index(drop=True), source="bundled")

    @classmethod
    def from_official_csv(cls, path: str | Path, *, additions: bool = True) -> "Catalog":
        """Read Microsoft's official CSV (BOM, CRLF, stray whitespace and NBSP tolerated).

        Raises InputError naming the file when it cannot be read, when its header lacks a column of
        ``OFFICIAL_COLUMNS`` (naming the missing and the unexpected ones), or when a row holds a malformed GUID.
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the licence CSV: {exc.strerror or exc}.", source=str(path),
                             hint=f"Download the current file from {OFFICIAL_CSV_PAGE} (link 'CSV').") from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")  # a copy re-saved by Excel; GUIDs are ASCII anyway
        if not text.strip():
            raise InputError("the licence CSV is empty.", source=str(path),
                             hint=f"Download the current file from {OFFICIAL_CSV_PAGE} (link 'CSV').")
        header = next(csv.reader(io.StringIO(text)))
        found = [h.replace("\u00a0", " ").strip().lstrip("\ufeff") for h in header]
        missing = [c for c in OFFICIAL_COLUMNS if c not in found]
        if missing:
            unexpected = [h for h in found if h not in OFFICIAL_COLUMNS]
            raise InputError(
                "this is not Microsoft's 'Product names and service plan identifiers for licensing' CSV in the "
                f"layout ccsync knows: missing column(s) {', '.join(missing)}"
                + (f"; found instead {', '.join(unexpected)}" if unexpected else "") + ".",
                source=str(path), field=missing[0],
                hint=f"Download the current file from {OFFICIAL_CSV_PAGE} (link 'CSV', {OFFICIAL_CSV_URL}) "
                     "and pass it unchanged; if Microsoft changed the layout, report it to the ccsync maintainers "
                     "and use the bundled catalog meanwhile (leave out --catalog).")
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        df.columns = found
        out = pd.DataFrame({
            "sku_id": _clean_text(df["GUID"]).str.lower().str.strip("{}"),
            "sku_part_number": _clean_text(df["String_Id"]),
            "product_name": _clean_text(df["Product_Display_Name"]),
            "service_plan_id": _clean_text(df["Service_Plan_Id"]).str.lower().str.strip("{}"),
            "service_plan_name": _clean_text(df["Service_Plan_Name"]),
        })
        for col, official in (("sku_id", "GUID"), ("service_plan_id", "Service_Plan_Id")):
            bad = ~out[col].str.fullmatch(_GUID.pattern)
            if bad.any():
                pos = int(bad.to_numpy().nonzero()[0][0])
                raise InputError(f"'{df[official].iloc[pos]}' is not a GUID ({int(bad.sum())} such row(s)).",
                                 source=str(path), row=pos + 2, field=official,
                                 hint=f"Use the unmodified CSV from {OFFICIAL_CSV_PAGE}.")
        if out.empty:
            raise InputError("the licence CSV has a header but no rows.", source=str(path),
                             hint=f"Download the current file from {OFFICIAL_CSV_PAGE} (link 'CSV').")
        out = out.drop_duplicates(["sku_id", "service_plan_id"]).reset_index(drop=True)
        out["entitlement"] = [plan_entitlement(p, s) for p, s in zip(out["service_plan_id"], out["sku_id"])]
        out["source"] = "official"
        notes: list[str] = []
        if additions:
            add = pd.DataFrame(DOCUMENTED_ADDITIONS, columns=["sku_id", "sku_part_number", "product_name",
                                                              "service_plan_id", "service_plan_name", "source"])
            add = add[~add["sku_id"].isin(set(out["sku_id"]))]
            if not add.empty:
                add.insert(5, "entitlement",
                           [plan_entitlement(p, s) for p, s in zip(add["service_plan_id"], add["sku_id"])])
                out = pd.concat([out, add[list(CATALOG_COLUMNS)]], ignore_index=True)
                notes.append(f"Added {add['sku_id'].nunique()} documented SKU(s) the CSV lacks: "
                             + ", ".join(dict.fromkeys(add["sku_part_number"])) + ".")
        return cls(out[list(CATALOG_COLUMNS)], source=str(path), notes=notes)

    # --- lookups ------------------------------------------------------------------------------------------

    def knows_sku(self, sku_id: str) -> bool:
        return _norm_guid(sku_id) in self._plans

    def sku_ids(self) -> set[str]:
        return set(self._plans)

    def sku_plans(self, sku_id: str) -> tuple[str, ...]:
        """Service-plan GUIDs of a SKU; () for a SKU the catalog does not know."""
        return self._plans.get(_norm_guid(sku_id), ())

    def sku_part_number(self, sku_id: str) -> str | None:
        return self._sku_part.get(_norm_guid(sku_id))

    def product_name(self, sku_id: str) -> str | None:
        return self._sku_name.get(_norm_guid(sku_id))

    def plan_name(self, plan_id: str) -> str | None:
        return self._plan_names.get(_norm_guid(plan_id))

    def entitlement(self, plan_id: str, sku_id: str | None = None) -> str:
        """Entitlement of a plan ('P1', 'P2', 'GOVERNANCE', 'SUITE' or '' for any other plan, look-alikes too)."""
        return plan_entitlement(plan_id, sku_id)

    def is_lookalike(self, plan_id: str) -> bool:
        return _norm_guid(plan_id) in LOOKALIKE_PLANS

    def skus_with(self, entitlement: str) -> pd.DataFrame:
        """SKUs carrying an entitlement: 'P1' (AAD_PREMIUM or AAD_PREMIUM_P2), 'P2', 'GOVERNANCE' (incl. SUITE).

        Columns sku_id, sku_part_number, product_name, sorted by part number.
        """
        wanted = {"P1": {"P1", "P2"}, "P2": {"P2"}, "GOVERNANCE": {"GOVERNANCE", "SUITE"},
                  "SUITE": {"SUITE"}}.get(entitlement.upper())
        if wanted is None:
            raise ValueError(f"unknown entitlement {entitlement!r}; use P1, P2, GOVERNANCE or SUITE")
        rows = self.frame[self.frame["entitlement"].isin(wanted)]
        return (rows[["sku_id", "sku_part_number", "product_name"]].drop_duplicates("sku_id")
                .sort_values("sku_part_number").reset_index(drop=True))

    def entitlement_table(self) -> pd.DataFrame:
        """Rows of entitlement and look-alike plans only, in the layout of the research ``license-catalog.csv``."""
        f = self.frame
        keep = (f["entitlement"] != "") | f["service_plan_id"].isin(set(LOOKALIKE_PLANS))
        return f.loc[keep, list(CATALOG_COLUMNS[:6])].reset_index(drop=True)

    def sku_masks(self, sku_ids: Iterable[str]) -> dict[str, int]:
        """Bit mask of entitlement plans per SKU (1 AAD_PREMIUM, 2 AAD_PREMIUM_P2, 4 Governance); known SKUs only."""
        out = {}
        for sku in sku_ids:
            plans = self._plans.get(sku)
            if plans is not None:
                out[sku] = ((AAD_PREMIUM in plans) * 1 | (AAD_PREMIUM_P2 in plans) * 2
                            | (ENTRA_IDENTITY_GOVERNANCE in plans) * 4)
        return out

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "skus": len(self._plans), "rows": int(len(self.frame)), "notes": self.notes}

    def write_csv(self, path: str | Path) -> None:
        """Write the catalog in the bundled layout: one row per SKU, UTF-8, LF, no BOM, sorted."""
        f = self.frame.sort_values(["sku_part_number", "sku_id", "service_plan_name", "service_plan_id"])
        grouped = f.groupby("sku_id", sort=False)
        out = pd.DataFrame({
            "sku_part_number": grouped["sku_part_number"].first(),
            "product_name": grouped["product_name"].first(),
            "entitlements": grouped["entitlement"].agg(
                lambda e: " ".join(x for x in ("P1", "P2", "GOVERNANCE", "SUITE") if x in set(e))),
            "source": grouped["source"].first(),
            "service_plan_ids": grouped["service_plan_id"].agg(";".join),
            "service_plan_names": grouped["service_plan_name"].agg(";".join),
        }).reset_index()
        from ..writefile import write_text

        # The catalog names no user: the usual file mode.
        write_text(path, out[list(BUNDLED_COLUMNS)].to_csv(index=False, lineterminator="\n"), private=False)
