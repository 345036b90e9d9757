"""Generate large seeded tenants (same JSON shape as ``samples/tenants/*.json``) for benchmarks and tests.

Why one module of about 520 lines: some 200 of them are data (the SKU catalog with its GUIDs, names,
departments, locations), and the code is a single pipeline drawing from one seeded RNG whose order of draws
defines every generated document; benchmarks and tests rely on the same document for the same arguments, so
the draws are kept in one place where their order can be seen.

``generate_tenant(100_000, "commercial", seed=1)`` returns a seed document in a few seconds; the same arguments
always give the same document (every GUID comes from the seeded RNG). Distributions are chosen to look like a
mid-size enterprise: most users hold a Microsoft 365 suite, a share get Entra ID Governance directly or through
a licensing group, a few have assignment errors, some are disabled, guests, hybrid (synced from AD) or lack a
usage location. The SKU table below is shared with ``samples/tenants/build_seeds.py``.

SKU and service-plan GUIDs come from Microsoft's "Product names and service plan identifiers for licensing"
CSV (``tests/fixtures/licensing/product-service-plan-identifiers.csv``); each SKU lists its entitlement-relevant plans
(AAD_PREMIUM, AAD_PREMIUM_P2, Entra_Identity_Governance and the lookalikes AAD_SMB, INFO_GOVERNANCE) plus a few
of its other real plans. Microsoft Entra Suite (``f9602137-...``) is not in that CSV: its plan list is the one
in ``docs/licensing-facts.md`` section 4. Government and China tenants reuse the commercial
Governance SKU because Microsoft publishes no identifiers for their Governance products (licensing-facts.md
section 6); this is a simulation choice.
"""

from __future__ import annotations

import base64
import gc
import random
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from ..clouds import get_cloud
from ..errors import InputError

__all__ = ["SKU_CATALOG", "CLOUD_SKU_MIX", "PLAN_IDS", "subscribed_sku", "initial_domain", "domain",
           "generate_tenant", "random_guid"]

# skuPartNumber -> (skuId, product name, ((servicePlanId, servicePlanName), ...))
SKU_CATALOG: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    "SPE_E3": ("05e9a617-0261-4cee-bb44-138d3ef5d965", "Microsoft 365 E3", (
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
        ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"),
        ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"),
        ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
        ("6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "RMS_S_PREMIUM"),
        ("bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMS_S_ENTERPRISE"),
    )),
    "SPE_E5": ("06ebc4ee-1bb5-47dd-8120-11324bc54e06", "Microsoft 365 E5", (
        ("e26c2fcc-ab91-4a61-b35c-03cdc8dddf66", "INFO_GOVERNANCE"),
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),
        ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
        ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"),
        ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"),
        ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
    )),
    "Microsoft_Entra_ID_Governance": ("cf6b0d46-4093-4546-a0ab-0b1546dcc10e", "Microsoft Entra ID Governance", (
        ("e866a266-3cff-43a3-acca-0c90a7e00c8b", "Entra_Identity_Governance"),
    )),
    "AAD_PREMIUM": ("078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "Microsoft Entra ID P1", (
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
        ("113feb6c-3fe4-4440-bddc-54d774bf0318", "EXCHANGE_S_FOUNDATION"),
        ("932ad362-64a8-4783-9106-97849a1a30b9", "ADALLOM_S_DISCOVERY"),
    )),
    "AAD_PREMIUM_P2": ("84a661c4-e949-4bd2-a560-ed7766fcaf2b", "Microsoft Entra ID P2", (
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
        ("113feb6c-3fe4-4440-bddc-54d774bf0318", "EXCHANGE_S_FOUNDATION"),
        ("932ad362-64a8-4783-9106-97849a1a30b9", "ADALLOM_S_DISCOVERY"),
    )),
    "IDENTITY_THREAT_PROTECTION": ("26124093-3d78-432b-b5dc-48bf992543d5", "Microsoft 365 E5 Security", (
        ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),
        ("bf28f719-7844-4079-9c78-c1307898e192", "MTP"),
        ("f20fedf3-f3c3-43c3-8267-2bfdd51c0939", "ATP_ENTERPRISE"),
        ("8e0c0a52-6a6c-4d40-8370-dd62790dcd70", "THREAT_INTELLIGENCE"),
        ("bf6f5520-59e3-4f82-974b-7dbbc4fd27c7", "SAFEDOCS"),
    )),
    "EMS": ("efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "Enterprise Mobility + Security E3", (
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
        ("6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "RMS_S_PREMIUM"),
        ("bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMS_S_ENTERPRISE"),
        ("113feb6c-3fe4-4440-bddc-54d774bf0318", "EXCHANGE_S_FOUNDATION"),
        ("932ad362-64a8-4783-9106-97849a1a30b9", "ADALLOM_S_DISCOVERY"),
    )),
    "SPB": ("cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "Microsoft 365 Business Premium", (
        ("de377cbc-0019-4ec2-b77c-3f223947e102", "AAD_SMB"),
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
        ("6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "RMS_S_PREMIUM"),
        ("bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMS_S_ENTERPRISE"),
        ("9aaf7827-d63c-4b61-89c3-182f06f82e5c", "EXCHANGE_S_STANDARD"),
        ("8e9ff0ff-aa7a-4b20-83c1-2f636b600ac2", "INTUNE_SMBIZ"),
    )),
    "ENTERPRISEPACK": ("6fd2c87f-b296-42f0-b197-1e91e994b900", "Office 365 E3", (
        ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
        ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"),
        ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"),
        ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"),
        ("bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMS_S_ENTERPRISE"),
        ("0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MCOSTANDARD"),
        ("a23b959c-7ce8-4e57-9140-b90eb88a9e97", "SWAY"),
        ("2789c901-c14e-48ab-a76a-be334d9d793a", "FORMS_PLAN_E3"),
        ("7547a3fe-08ee-4ccb-b430-5077c5041653", "YAMMER_ENTERPRISE"),
    )),
    "ENTERPRISEPREMIUM": ("c7df2760-2c81-4ef7-b578-5b5392b571df", "Office 365 E5", (
        ("e26c2fcc-ab91-4a61-b35c-03cdc8dddf66", "INFO_GOVERNANCE"),
        ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
        ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"),
        ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"),
        ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"),
        ("bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMS_S_ENTERPRISE"),
        ("0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MCOSTANDARD"),
        ("a23b959c-7ce8-4e57-9140-b90eb88a9e97", "SWAY"),
        ("7547a3fe-08ee-4ccb-b430-5077c5041653", "YAMMER_ENTERPRISE"),
    )),
    "M365_G3_GOV": ("e823ca47-49c4-46b3-b38d-ca11d5abe3d2", "Microsoft 365 G3 GCC", (
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("8c3069c0-ccdb-44be-ab77-986203a67df2", "EXCHANGE_S_ENTERPRISE_GOV"),
        ("153f85dd-d912-4762-af6c-d6e0fb4f6692", "SHAREPOINTENTERPRISE_GOV"),
        ("304767db-7d23-49e8-a945-4a7eb65f9f28", "TEAMS_GOV"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"),
        ("de9234ff-6483-44d9-b15e-dca72fdd27af", "OFFICESUBSCRIPTION_GOV"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
        ("932ad362-64a8-4783-9106-97849a1a30b9", "ADALLOM_S_DISCOVERY"),
    )),
    "M365_G5_GCC": ("e2be619b-b125-455f-8660-fb503e431a5d", "Microsoft 365 GCC G5", (
        ("e26c2fcc-ab91-4a61-b35c-03cdc8dddf66", "INFO_GOVERNANCE"),
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),
        ("8c3069c0-ccdb-44be-ab77-986203a67df2", "EXCHANGE_S_ENTERPRISE_GOV"),
        ("153f85dd-d912-4762-af6c-d6e0fb4f6692", "SHAREPOINTENTERPRISE_GOV"),
        ("304767db-7d23-49e8-a945-4a7eb65f9f28", "TEAMS_GOV"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"),
        ("de9234ff-6483-44d9-b15e-dca72fdd27af", "OFFICESUBSCRIPTION_GOV"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
    )),
    "SPE_E3_USGOV_GCCHIGH": ("ca9d1dd9-dfe9-4fef-b97c-9bc1ea3c3658", "Microsoft 365 E3_USGOV_GCCHIGH", (
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
        ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"),
        ("9953b155-8aef-4c56-92f3-72b0487fce41", "TEAMS_AR_GCCHIGH"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"),
        ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
        ("6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "RMS_S_PREMIUM"),
        ("bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMS_S_ENTERPRISE"),
    )),
    "SPE_E5_USGOV_GCCHIGH": ("4eb45c5b-0d19-4e33-b87c-adfc25268f20", "Microsoft 365 E5_USGOV_GCCHIGH", (
        ("e26c2fcc-ab91-4a61-b35c-03cdc8dddf66", "INFO_GOVERNANCE"),
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),
        ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
        ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"),
        ("9953b155-8aef-4c56-92f3-72b0487fce41", "TEAMS_AR_GCCHIGH"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"),
        ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
    )),
    "EMSPREMIUM_USGOV_GCCHIGH": ("a461b89c-10e3-471c-82b8-aae4d820fccb",
                                 "Enterprise Mobility + Security E5_USGOV_GCCHIGH", (
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
        ("6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "RMS_S_PREMIUM"),
        ("bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMS_S_ENTERPRISE"),
        ("113feb6c-3fe4-4440-bddc-54d774bf0318", "EXCHANGE_S_FOUNDATION"),
    )),
    "AAD_PREMIUM_USGOV_GCCHIGH": ("de597797-22fb-4d65-a9fe-b7dbe8893914", "Microsoft Entra ID P1_USGOV_GCCHIGH", (
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
        ("113feb6c-3fe4-4440-bddc-54d774bf0318", "EXCHANGE_S_FOUNDATION"),
        ("932ad362-64a8-4783-9106-97849a1a30b9", "ADALLOM_S_DISCOVERY"),
    )),
    "SPE_E3_USGOV_DOD": ("d61d61cc-f992-433f-a577-5bd016037eeb", "Microsoft 365 E3_USGOV_DOD", (
        ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
        ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
        ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"),
        ("fd500458-c24c-478e-856c-a6067a8376cd", "TEAMS_AR_DOD"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"),
        ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"),
        ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"),
        ("6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "RMS_S_PREMIUM"),
        ("bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMS_S_ENTERPRISE"),
    )),
    # Not in Microsoft's CSV: SKU from the Entra PowerShell docs, plans from licensing-facts.md section 4.
    "Microsoft_Entra_Suite": ("f9602137-2203-447b-9fff-41b36e08ce5d", "Microsoft Entra Suite", (
        ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),
        ("e866a266-3cff-43a3-acca-0c90a7e00c8b", "Entra_Identity_Governance"),
        ("8d23cb83-ab07-418f-8517-d7aca77307dc", "Entra_Premium_Internet_Access"),
        ("f057aab1-b184-49b2-85c0-881b02a405c5", "Entra_Premium_Private_Access"),
        ("aae826b7-14cd-4691-8178-2b312f7072ea", "Verifiable_Credentials_Service_Request"),
    )),
}

# Plan name -> plan GUID, across the catalog (a plan's GUID is the same in every SKU that carries it).
PLAN_IDS: dict[str, str] = {name: pid for _, _, plans in SKU_CATALOG.values() for pid, name in plans}

# Suites give a user their mailbox and apps: a user holds at most one of them. Everything else is an add-on.
SUITES = frozenset({"SPE_E3", "SPE_E5", "SPB", "ENTERPRISEPACK", "ENTERPRISEPREMIUM", "M365_G3_GOV", "M365_G5_GCC",
                    "SPE_E3_USGOV_GCCHIGH", "SPE_E5_USGOV_GCCHIGH", "SPE_E3_USGOV_DOD"})

# Default share of users holding each SKU by direct assignment, per cloud.
CLOUD_SKU_MIX: dict[str, dict[str, float]] = {
    "commercial": {"SPE_E3": 0.45, "SPE_E5": 0.15, "ENTERPRISEPACK": 0.08, "SPB": 0.02,
                   "Microsoft_Entra_ID_Governance": 0.20, "IDENTITY_THREAT_PROTECTION": 0.03, "EMS": 0.04,
                   "Microsoft_Entra_Suite": 0.02},
    "gcc": {"M365_G3_GOV": 0.55, "M365_G5_GCC": 0.20, "Microsoft_Entra_ID_Governance": 0.20},
    "gcch": {"SPE_E3_USGOV_GCCHIGH": 0.50, "SPE_E5_USGOV_GCCHIGH": 0.20, "EMSPREMIUM_USGOV_GCCHIGH": 0.05,
             "Microsoft_Entra_ID_Governance": 0.15},
    "dod": {"SPE_E3_USGOV_DOD": 0.70, "Microsoft_Entra_ID_Governance": 0.15},
    "china": {"SPE_E3": 0.50, "SPE_E5": 0.10, "EMS": 0.08, "Microsoft_Entra_ID_Governance": 0.10},
}
# The SKU handed out through a licensing group (group-based licensing), per cloud.
GROUP_SKU = "Microsoft_Entra_ID_Governance"

GIVEN_NAMES = (
    "Adele Alex Allan Amelia Ana Andrew Anil Aisha Ben Bianca Brian Camila Carlos Chen Chloe Christie Daniel "
    "Debra Diego Dmitri Elena Emily Enrico Fatima Fernando Gabriel Grady Hana Henrik Isaiah Ivan Jamal Jana "
    "Johanna Joni Jorge Kai Karin Kenji Lee Leila Lidia Lynne Maria Mateo Megan Miriam Mohammed Nadia Nestor "
    "Noah Olga Omar Patti Pradeep Priya Rafael Ravi Rosa Sakura Sam Sara Sofia Tomas Uma Victor Wei Yasmin "
    "Yuki Zoe"
).split()
SURNAMES = (
    "Vance Wilber Deyoung Brooks Chen Garcia Patel Kim Nguyen Smith Johnson Williams Brown Jones Miller Davis "
    "Rodriguez Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez "
    "Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres "
    "Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans "
    "Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson "
    "Sotelo Fernandes Henshaw Thorsen Yamada Kowalski Novak Ivanova Haddad Okafor Mensah Larsen Dubois"
).split()
DEPARTMENTS = (
    ("Sales", ("Account Executive", "Sales Manager", "Sales Engineer", "Inside Sales Representative")),
    ("Marketing", ("Marketing Manager", "Content Strategist", "Product Marketing Manager")),
    ("Engineering", ("Software Engineer", "Senior Software Engineer", "Engineering Manager", "SRE")),
    ("Finance", ("Accountant", "Financial Analyst", "Controller")),
    ("Human Resources", ("HR Generalist", "Recruiter", "HR Business Partner")),
    ("IT", ("Systems Administrator", "Identity Engineer", "Help Desk Technician", "IT Manager")),
    ("Legal", ("Counsel", "Paralegal", "Compliance Officer")),
    ("Operations", ("Operations Analyst", "Logistics Coordinator", "Program Manager")),
    ("Research", ("Research Scientist", "Data Scientist", "Lab Manager")),
    ("Customer Success", ("Customer Success Manager", "Support Engineer", "Technical Account Manager")),
)
# (country, ISO code for usageLocation, city, state, postalCode, preferredLanguage)
LOCATIONS = {
    "us": (("United States", "US", "Redmond", "WA", "98052", "en-US"),
           ("United States", "US", "Arlington", "VA", "22202", "en-US"),
           ("United States", "US", "San Antonio", "TX", "78205", "en-US"),
           ("United States", "US", "Boston", "MA", "02110", "en-US"),
           ("United States", "US", "Denver", "CO", "80202", "en-US")),
    "world": (("United Kingdom", "GB", "London", "England", "EC2A 4NE", "en-GB"),
              ("Germany", "DE", "Munich", "Bavaria", "80331", "de-DE"),
              ("France", "FR", "Paris", "Ile-de-France", "75008", "fr-FR"),
              ("Japan", "JP", "Tokyo", "Tokyo", "100-0005", "ja-JP"),
              ("Canada", "CA", "Toronto", "ON", "M5H 2N2", "en-CA"),
              ("India", "IN", "Bengaluru", "Karnataka", "560001", "en-IN"),
              ("Brazil", "BR", "Sao Paulo", "SP", "01310-100", "pt-BR")),
    "cn": (("China", "CN", "Shanghai", "Shanghai", "200120", "zh-CN"),
           ("China", "CN", "Beijing", "Beijing", "100020", "zh-CN"),
           ("China", "CN", "Shenzhen", "Guangdong", "518000", "zh-CN")),
}
STREETS = ("Microsoft Way", "Main Street", "Market Street", "Harbor Drive", "Park Avenue", "Commerce Blvd",
           "Innovation Drive", "High Street", "Station Road", "Riverside Parkway")
GUEST_DOMAINS = ("partner.example", "vendor.example", "consultancy.example", "outlook.com", "gmail.com")


def random_guid(rng: random.Random) -> str:
    """A version-4-shaped GUID drawn from ``rng`` (so a seed fixes every id)."""
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def initial_domain(name: str, cloud: str) -> str:
    """The ``isInitial`` domain a tenant gets in its cloud: onmicrosoft.com / .us, partner.onmschina.cn."""
    c = get_cloud(cloud).name
    if c in ("gcch", "dod"):
        return f"{name}.onmicrosoft.us"
    if c == "china":
        return f"{name}.partner.onmschina.cn"
    return f"{name}.onmicrosoft.com"


def domain(name: str, *, verified: bool = True, default: bool = False, initial: bool = False,
           federated: bool = False) -> dict[str, Any]:
    """A Graph ``domain`` object as the seed files store it."""
    return {"id": name, "isVerified": verified, "isDefault": default, "isInitial": initial,
            "authenticationType": "Federated" if federated else "Managed",
            "supportedServices": (["Email", "OfficeCommunicationsOnline"] if verified else [])}


def subscribed_sku(part_number: str, enabled: int, *, capability_status: str = "Enabled", suspended: int = 0,
                   warning: int = 0, locked_out: int = 0) -> dict[str, Any]:
    """A ``subscribedSku`` for the seed (consumedUnits is derived by the simulator from assignments)."""
    if part_number not in SKU_CATALOG:
        raise InputError(f"unknown SKU '{part_number}'.", field="skuPartNumber",
                         hint=f"Use one of: {', '.join(sorted(SKU_CATALOG))}.")
    sku_id, _, plans = SKU_CATALOG[part_number]
    plan_status = "Success" if capability_status in ("Enabled", "Warning") else "Disabled"
    return {
        "skuId": sku_id, "skuPartNumber": part_number, "appliesTo": "User", "capabilityStatus": capability_status,
        "prepaidUnits": {"enabled": enabled, "warning": warning, "suspended": suspended, "lockedOut": locked_out},
        "servicePlans": [{"servicePlanId": pid, "servicePlanName": pname, "provisioningStatus": plan_status,
                          "appliesTo": "User"} for pid, pname in plans],
    }


def _timestamps(start: datetime, end: datetime) -> tuple[list[str], list[str]]:
    """Day and time-of-day strings to draw ISO-8601 timestamps from (strftime per user is the slow part)."""
    days = [(start + timedelta(days=d)).strftime("%Y-%m-%d") for d in range((end - start).days)]
    minutes = [f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)]
    return days, minutes


_APP_ROLES = ["User.ReadWrite.All", "Directory.ReadWrite.All", "User.Invite.All", "LicenseAssignment.ReadWrite.All",
              "Group.ReadWrite.All", "AuditLog.Read.All", "Policy.ReadWrite.CrossTenantAccess",
              "Synchronization.ReadWrite.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"]


def generate_tenant(n_users: int, cloud: str, *, seed: int = 0, name: str = "bench", n_groups: int | None = None,
                    sku_mix: Mapping[str, float] | None = None, group_license_rate: float = 0.10,
                    error_rate: float = 0.003, disabled_rate: float = 0.04, guest_rate: float = 0.03,
                    hybrid_rate: float = 0.30, no_usage_location_rate: float = 0.02,
                    count_violation_rate: float = 0.01) -> dict[str, Any]:
    """A seed document for a tenant of ``n_users`` users in ``cloud``; deterministic for (arguments, seed).

    ``sku_mix`` maps skuPartNumber to the share of users holding it directly (suites are exclusive: a user
    draws at most one; add-ons are drawn independently). ``group_license_rate`` of the members get the
    Governance SKU through the licensing group ``LIC-Entra-ID-Governance``, which is bought
    ``count_violation_rate`` short so that the simulator reports CountViolation for some of them.
    ``error_rate`` of licensed users carry a forced MutuallyExclusiveViolation. ``n_groups`` (default scales
    with the tenant) counts every group: sync scope, licensing, departments and teams.
    """
    # Millions of small dicts: the cyclic GC would rescan them again and again although none is garbage.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(n_users, cloud, seed=seed, name=name, n_groups=n_groups, sku_mix=sku_mix,
                         group_license_rate=group_license_rate, error_rate=error_rate, disabled_rate=disabled_rate,
                         guest_rate=guest_rate, hybrid_rate=hybrid_rate,
                         no_usage_location_rate=no_usage_location_rate, count_violation_rate=count_violation_rate)
    finally:
        if gc_was_enabled:
            gc.enable()


def _generate(n_users: int, cloud: str, *, seed: int, name: str, n_groups: int | None,
              sku_mix: Mapping[str, float] | None, group_license_rate: float, error_rate: float,
              disabled_rate: float, guest_rate: float, hybrid_rate: float, no_usage_location_rate: float,
              count_violation_rate: float) -> dict[str, Any]:
    c = get_cloud(cloud).name
    if not isinstance(n_users, int) or n_users < 1:
        raise InputError(f"n_users must be a positive whole number, not {n_users!r}.", field="n_users")
    mix = dict(CLOUD_SKU_MIX[c] if sku_mix is None else sku_mix)
    unknown = [p for p in mix if p not in SKU_CATALOG]
    if unknown:
        raise InputError(f"unknown SKU(s) in sku_mix: {', '.join(unknown)}.", field="sku_mix",
                         hint=f"Use part numbers from: {', '.join(sorted(SKU_CATALOG))}.")
    suites = [(p, f) for p, f in mix.items() if p in SUITES]
    if sum(f for _, f in suites) > 1.0 + 1e-9:
        raise InputError("suite shares in sku_mix add up to more than 1.", field="sku_mix",
                         hint=f"A user holds at most one suite ({', '.join(sorted(SUITES & set(mix)))}).")
    addons = [(SKU_CATALOG[p][0], f) for p, f in mix.items() if p not in SUITES]
    suite_edges, edge = [], 0.0
    for p, f in suites:
        edge += f
        suite_edges.append((edge, SKU_CATALOG[p][0]))

    rng = random.Random(seed)
    rnd = rng.random
    tenant_id = random_guid(rng)
    init = initial_domain(name, c)
    custom = f"{name}.example.com" if c != "china" else f"{name}.example.cn"
    region = "cn" if c == "china" else ("us" if c in ("gcc", "gcch", "dod") else "world")
    locations = LOCATIONS[region] + (LOCATIONS["us"] if region == "world" else ())
    days, minutes = _timestamps(datetime(2018, 1, 1, tzinfo=timezone.utc), datetime(2026, 6, 30, tzinfo=timezone.utc))
    n_days, n_minutes = len(days), len(minutes)
    governance_id = SKU_CATALOG[GROUP_SKU][0]
    mutex_error = "MutuallyExclusiveViolation"
    p1_plan = PLAN_IDS["AAD_PREMIUM"]

    users: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    holders: dict[str, int] = {}
    dept_members: dict[str, list[str]] = {d: [] for d, _ in DEPARTMENTS}
    licensed_group_members: list[str] = []
    scope_members: list[str] = []
    member_ids: list[str] = []
    ng, ns, nd, nl = len(GIVEN_NAMES), len(SURNAMES), len(DEPARTMENTS), len(locations)
    for i in range(n_users):
        given = GIVEN_NAMES[int(rnd() * ng)]
        surname = SURNAMES[int(rnd() * ns)]
        alias = f"{given}.{surname}".lower()
        k = seen.get(alias, 0)
        seen[alias] = k + 1
        if k:
            alias = f"{alias}{k + 1}"
        uid = random_guid(rng)
        created = f"{days[int(rnd() * n_days)]}T{minutes[int(rnd() * n_minutes)]}:{int(rnd() * 60):02d}Z"
        if i > 0 and rnd() < guest_rate:
            ext = GUEST_DOMAINS[int(rnd() * len(GUEST_DOMAINS))]
            accepted = rnd() < 0.8
            users.append({
                "id": uid, "userPrincipalName": f"{alias}_{ext}#EXT#@{init}", "displayName": f"{given} {surname}",
                "givenName": given, "surname": surname, "mail": f"{alias}@{ext}",
                "mailNickname": f"{alias}_{ext}#EXT#", "accountEnabled": True, "userType": "Guest",
                "creationType": "Invitation", "externalUserState": "Accepted" if accepted else "PendingAcceptance",
                "externalUserStateChangeDateTime": created, "createdDateTime": created,
                "otherMails": [f"{alias}@{ext}"], "assignedLicenses": [],
            })
            continue
        dept, titles = DEPARTMENTS[int(rnd() * nd)]
        country, code, city, state, postal, lang = locations[int(rnd() * nl)]
        user: dict[str, Any] = {
            "id": uid, "userPrincipalName": f"{alias}@{custom}", "displayName": f"{given} {surname}",
            "givenName": given, "surname": surname, "mail": f"{alias}@{custom}", "mailNickname": alias,
            "accountEnabled": i == 0 or rnd() >= disabled_rate, "userType": "Member",
            "jobTitle": titles[int(rnd() * len(titles))], "department": dept, "companyName": name.title(),
            "employeeId": str(100000 + i), "employeeType": "Employee",
            "officeLocation": f"{city} {int(rnd() * 40) + 1}", "streetAddress":
                f"{int(rnd() * 9000) + 100} {STREETS[int(rnd() * len(STREETS))]}",
            "city": city, "state": state, "country": country, "postalCode": postal, "preferredLanguage": lang,
            "createdDateTime": created, "businessPhones": [], "otherMails": [],
        }
        if rnd() >= no_usage_location_rate:
            user["usageLocation"] = code
        if rnd() < hybrid_rate:
            user["onPremisesSyncEnabled"] = True
            user["onPremisesImmutableId"] = base64.b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode()
            user["onPremisesSamAccountName"] = alias[:20]
            user["onPremisesDomainName"] = f"corp.{custom}"
            user["onPremisesLastSyncDateTime"] = "2026-06-30T23:40:00Z"
        if i == 0:
            user["@sim.admin"] = True
            user["jobTitle"], user["department"] = "Global Administrator", "IT"
        licences: list[dict[str, Any]] = []
        if "usageLocation" in user:
            r = rnd()
            for edge_value, sku_id in suite_edges:
                if r < edge_value:
                    # A few assignments switch Entra ID P1 off, so the user holds the suite but not P1.
                    disabled = [p1_plan] if rnd() < 0.01 else []
                    licences.append({"skuId": sku_id, "disabledPlans": disabled})
                    break
            for sku_id, share in addons:
                if rnd() < share:
                    licences.append({"skuId": sku_id, "disabledPlans": []})
            if licences and rnd() < error_rate:
                user["@sim.licenseErrors"] = {licences[0]["skuId"]: mutex_error}
        user["assignedLicenses"] = licences
        for lic in licences:
            holders[lic["skuId"]] = holders.get(lic["skuId"], 0) + 1
        users.append(user)
        member_ids.append(uid)
        dept_members[dept].append(uid)
        if rnd() < 0.6:
            scope_members.append(uid)
        if "usageLocation" in user and rnd() < group_license_rate:
            licensed_group_members.append(uid)
            if not any(lic["skuId"] == governance_id for lic in licences):
                holders[governance_id] = holders.get(governance_id, 0) + 1

    groups = _groups(rng, name, member_ids, scope_members, licensed_group_members, dept_members, governance_id,
                     n_groups if n_groups is not None else max(len(DEPARTMENTS) + 3, min(n_users // 250, 5000)))
    skus = []
    for part in dict.fromkeys([*mix, GROUP_SKU]):
        sku_id = SKU_CATALOG[part][0]
        need = holders.get(sku_id, 0)
        if part == GROUP_SKU and licensed_group_members:
            enabled = max(need - max(1, int(need * count_violation_rate)), 0)  # bought short: CountViolation
        else:
            enabled = need + max(5, need // 20)
        skus.append(subscribed_sku(part, enabled))
    return {
        "cloud": c,
        "organization": {"id": tenant_id, "displayName": f"{name.title()} ({c})", "countryLetterCode":
                         "CN" if c == "china" else "US", "tenantType": "AAD",
                         "verifiedDomains": [{"name": init, "isDefault": False, "isInitial": True, "type": "Managed"},
                                             {"name": custom, "isDefault": True, "isInitial": False,
                                              "type": "Managed"}],
                         "createdDateTime": "2017-11-02T09:00:00Z"},
        "domains": [domain(init, initial=True), domain(custom, default=True)],
        "apps": [{"appId": random_guid(rng), "displayName": "ccsync", "roles": list(_APP_ROLES),
                  "certificates": []}],
        "subscribedSkus": skus,
        "groups": groups,
        "users": users,
    }


def _groups(rng: random.Random, name: str, members: list[str], scope: list[str], licensed: list[str],
            by_dept: dict[str, list[str]], governance_id: str, n_groups: int) -> list[dict[str, Any]]:
    def group(display: str, nick: str, member_list: list[str], licences: list[dict[str, Any]] | None = None,
              description: str = "") -> dict[str, Any]:
        return {"id": random_guid(rng), "displayName": display, "description": description,
                "mailNickname": nick, "securityEnabled": True, "mailEnabled": False, "groupTypes": [],
                "members": member_list, "assignedLicenses": licences or []}

    pilot = group("CCS-Sync-Pilot", "ccs-sync-pilot", members[: max(1, len(members) // 100)],
                  description="Pilot users for cross-cloud sync (nested in CCS-Sync-Scope)")
    out = [
        group("CCS-Sync-Scope", "ccs-sync-scope", scope + [pilot["id"]],
              description="Users in scope of cross-cloud sync"),
        pilot,
        group("LIC-Entra-ID-Governance", "lic-entra-id-governance", licensed,
              [{"skuId": governance_id, "disabledPlans": []}], "Group-based licensing: Entra ID Governance"),
    ]
    for dept, ids in by_dept.items():
        if len(out) >= n_groups:
            break
        out.append(group(f"Dept-{dept}", "dept-" + dept.lower().replace(" ", "-"), ids))
    team = 0
    while len(out) < n_groups:
        team += 1
        size = 5 + int(rng.random() * 45)
        start = int(rng.random() * max(1, len(members) - size))
        out.append(group(f"Team-{team:04d}", f"team-{team:04d}", members[start:start + size]))
    return out
