"""Build the five seeded tenants in samples/tenants/ (commercial, gcc, gcch, dod, china) from the data below.

Run from the repository root:  python samples/tenants/build_seeds.py          (rewrites the JSON files)
                                python samples/tenants/build_seeds.py --check  (exit 1 if a file is stale)

Everything is deterministic: every GUID is a UUIDv5 of a fixed namespace and a readable name
("contoso/user/adele.vance"), so the files can be regenerated and reviewed as diffs. The licence cases each
user exercises are listed in samples/README.md; keep the two in step when you edit a user here. How a tenant
document is put together (the ``Tenant`` builder, the GUIDs) is in ``seed_tenant.py`` beside this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from seed_tenant import Tenant, b2b_partner, gid  # beside this file: the script's folder is on sys.path

HERE = Path(__file__).resolve().parent
GOV = "Microsoft_Entra_ID_Governance"
US_OFFICES = {
    "RED": ("Redmond", "WA", "United States", "US", "98052", "1 Microsoft Way", "en-US"),
    "NYC": ("New York", "NY", "United States", "US", "10036", "11 Times Square", "en-US"),
    "ARL": ("Arlington", "VA", "United States", "US", "22202", "1400 Crystal Drive", "en-US"),
    "SAT": ("San Antonio", "TX", "United States", "US", "78205", "300 Convent Street", "en-US"),
    "COS": ("Colorado Springs", "CO", "United States", "US", "80903", "90 S Cascade Avenue", "en-US"),
}
WORLD_OFFICES = {
    **US_OFFICES,
    "LON": ("London", "England", "United Kingdom", "GB", "EC2A 4NE", "100 Bishopsgate", "en-GB"),
    "MUC": ("Munich", "Bavaria", "Germany", "DE", "80807", "Walter-Gropius-Strasse 5", "de-DE"),
    "TYO": ("Tokyo", "Tokyo", "Japan", "JP", "108-0075", "2-16-3 Konan", "ja-JP"),
}
CN_OFFICES = {
    "SHA": ("Shanghai", "Shanghai", "China", "CN", "200241", "No. 5 Danling Road", "zh-CN"),
    "PEK": ("Beijing", "Beijing", "China", "CN", "100080", "No. 5 Danling Street", "zh-CN"),
    "SZX": ("Shenzhen", "Guangdong", "China", "CN", "518057", "Hi-Tech Park South", "zh-CN"),
}


def contoso() -> dict[str, Any]:
    """Commercial source tenant: every licence case the eligibility check must tell apart."""
    t = Tenant("contoso", "commercial", "Contoso", "contoso", ["contoso.com", "contosolabs.com"], ["contoso.net"],
               "US", "Contoso Ltd.", WORLD_OFFICES, "C")
    t.doc["apps"].append({"appId": gid("contoso", "app", "ccsync-reader"), "displayName": "ccsync-reader",
                          "roles": ["User.Read.All"], "certificates": []})
    # Microsoft cloud settings allow GCC High, and Fabrikam Federal is a B2B partner (samples/README.md)
    t.doc["crossTenantAccessPolicy"] = {"allowedCloudEndpoints": ["microsoftonline.us"],
                                        "partners": [b2b_partner("fabrikamfederal")]}
    # a cross-tenant sync configuration created in the portal with the cross-cloud checkbox, not yet set up
    t.doc["@sim.crossCloudConfigurations"] = ["Fabrikam Federal"]
    t.sku("SPE_E3", 30)
    t.sku("SPE_E5", 8)
    t.sku(GOV, 30)
    t.sku("AAD_PREMIUM_P2", 5)
    t.sku("IDENTITY_THREAT_PROTECTION", 3)
    t.sku("Microsoft_Entra_Suite", 3)
    t.sku("SPB", 5)
    t.sku("ENTERPRISEPREMIUM", 3)
    t.sku("EMS", 4)                                               # LIC-EMS-E3 has 6 members: CountViolation
    t.sku("AAD_PREMIUM", 0, capability_status="Suspended", suspended=5)  # cancelled, still assigned to 2 users
    m = t.member
    m("Megan", "Bowen", "IT", "Global Administrator", "RED", licences=["SPE_E5", GOV], admin=True)
    # P1 through Microsoft 365 E3 + Governance assigned directly: eligible.
    m("Adele", "Vance", "Retail", "Retail Manager", "RED", licences=["SPE_E3", GOV], hybrid=True)
    m("Alex", "Wilber", "Marketing", "Marketing Assistant", "NYC", licences=["SPE_E3", GOV])
    m("Diego", "Siciliani", "HR", "HR Manager", "RED", licences=["SPE_E3", GOV], hybrid=True)
    m("Lee", "Gu", "Manufacturing", "Director", "MUC", licences=["SPE_E3", GOV])
    m("Johanna", "Lorenz", "Engineering", "Senior Engineer", "MUC", licences=["SPE_E3", GOV])
    # P2 (standalone) + Governance.
    m("Isaiah", "Langer", "Sales", "Sales Rep", "NYC", licences=["AAD_PREMIUM_P2", GOV])
    m("Pradeep", "Gupta", "Finance", "Accountant", "RED", licences=["AAD_PREMIUM_P2", GOV])
    # Governance through group-based licensing (LIC-Entra-ID-Governance), P1 through E3 direct.
    m("Christie", "Cline", "Sales", "Senior Sales Rep", "LON", licences=["SPE_E3"])
    m("Debra", "Berger", "Executive Management", "Administrative Assistant", "RED", licences=["SPE_E3"])
    m("Grady", "Archie", "R&D", "Designer", "RED", licences=["SPE_E3"], hybrid=True)
    m("Joni", "Sherman", "Legal", "Paralegal", "NYC", licences=["SPE_E3"])
    # Microsoft Entra Suite alone: P2 + Governance in one SKU, no AAD_PREMIUM plan.
    m("Nestor", "Wilke", "Operations", "Director", "RED", licences=["Microsoft_Entra_Suite"])
    m("Patti", "Fernandez", "Executive Management", "President", "RED", licences=["Microsoft_Entra_Suite"])
    # P2 only through a bundle without AAD_PREMIUM (Microsoft 365 E5 Security) on top of Office 365 E5.
    m("Lidia", "Holloway", "Engineering", "Product Manager", "TYO",
      licences=["ENTERPRISEPREMIUM", "IDENTITY_THREAT_PROTECTION", GOV])
    m("Irvin", "Sayers", "Engineering", "Engineer", "TYO", licences=["ENTERPRISEPREMIUM", "IDENTITY_THREAT_PROTECTION"])
    # Governance plan switched off in the assignment (disabledPlans): not entitled.
    m("Miriam", "Graham", "Sales", "Director", "LON", licences=["SPE_E3", (GOV, ["Entra_Identity_Governance"])])
    # Forced assignment error on the Governance SKU.
    m("Henrietta", "Mueller", "R&D", "Developer", "MUC", licences=["SPE_E3", GOV],
      errors={GOV: "MutuallyExclusiveViolation"})
    # EMS E3 through LIC-EMS-E3 (6 members, 4 units): CountViolation for some; Governance direct.
    for given, surname, dept, title, office in (
            ("Enrico", "Cattaneo", "Legal", "Attorney", "LON"), ("Emily", "Braun", "Finance", "Budget Analyst", "RED"),
            ("Allan", "Deyoung", "IT", "IT Admin", "RED"), ("Lynne", "Robbins", "Retail", "Planner", "NYC"),
            ("Raul", "Razo", "Manufacturing", "Plant Manager", "SAT"),
            ("Cameron", "White", "Sales", "Sales Rep", "SAT")):
        m(given, surname, dept, title, office, licences=[GOV])
    # P1 only from a suspended subscription (Entra ID P1 standalone), Governance direct.
    m("Brian", "Johnson", "Operations", "Logistics Lead", "SAT", licences=["AAD_PREMIUM", GOV])
    m("Sara", "Davis", "Finance", "Controller", "NYC", licences=["AAD_PREMIUM", GOV])
    # Business Premium: carries AAD_PREMIUM next to the lookalike AAD_SMB.
    m("Zrinka", "Makovac", "Marketing", "Content Lead", "LON", licences=["SPB", GOV])
    # Lookalike only: Business Premium with AAD_PREMIUM switched off leaves just AAD_SMB.
    m("Sam", "Taylor", "Retail", "Store Lead", "NYC", licences=[("SPB", ["AAD_PREMIUM"])])
    # Lookalike only: Office 365 E5 carries INFO_GOVERNANCE (Purview), not Entra ID Governance.
    m("Kayla", "Lewis", "Legal", "Compliance Officer", "RED", licences=["ENTERPRISEPREMIUM"])
    # Governance without any P1/P2 base.
    m("Omar", "Haddad", "R&D", "Researcher", "MUC", licences=[GOV])
    # P1 (E3) but no Governance: enough for same-cloud sync, not cross-cloud.
    m("Ravi", "Kumar", "R&D", "Lab Manager", "RED", licences=["SPE_E3"], upn_domain="contosolabs.com")
    m("Jordan", "Lee", "Sales", "Account Executive", "NYC", licences=["SPE_E3", GOV])
    m("Ana", "Torres", "HR", "Recruiter", "NYC", licences=["SPE_E3"], hybrid=True)
    m("Kenji", "Yamada", "Engineering", "Engineer", "TYO", licences=["SPE_E5", GOV])
    m("Elena", "Novak", "Engineering", "Engineer", "MUC", licences=["SPE_E5"])
    # No licence at all; one without usageLocation; disabled accounts.
    m("Nadia", "Okafor", "Operations", "Intern", "RED")
    m("Tomas", "Larsen", "Finance", "Intern", "LON", usage_location=False)
    m("Victor", "Mensah", "Sales", "Sales Rep", "SAT", licences=["SPE_E3", GOV], enabled=False)
    m("Wei", "Chen", "Engineering", "Contractor", "RED", enabled=False, hybrid=True)
    m("Yasmin", "Dubois", "Marketing", "Designer", "LON", licences=["SPE_E3"], enabled=False)
    # Guests in the source (cannot be synced: only internal members can).
    t.external("Fiona", "Walsh", "partner.example")
    t.external("Tim", "Grant", "vendor.example", state="PendingAcceptance")
    t.external("Rachel", "Stone", "fabrikamfederal.us", company="Fabrikam Federal")

    t.group("CCS-Sync-Pilot", "Pilot users for cross-cloud sync (nested in CCS-Sync-Scope)",
            ["adele.vance", "alex.wilber", "lee.gu"])
    t.group("CCS-Sync-Scope", "Users in scope of cross-cloud sync to Fabrikam Federal (GCC High)",
            ["CCS-Sync-Pilot", "diego.siciliani", "johanna.lorenz", "isaiah.langer", "pradeep.gupta",
             "christie.cline", "debra.berger", "grady.archie", "joni.sherman", "nestor.wilke", "patti.fernandez",
             "lidia.holloway", "irvin.sayers", "miriam.graham", "henrietta.mueller", "enrico.cattaneo",
             "emily.braun", "brian.johnson", "zrinka.makovac", "sam.taylor", "kayla.lewis", "omar.haddad",
             "ravi.kumar", "jordan.lee", "victor.mensah", "fiona.walsh@partner.example"])
    t.group("LIC-Entra-ID-Governance", "Group-based licensing: Microsoft Entra ID Governance",
            ["christie.cline", "debra.berger", "grady.archie", "joni.sherman"], licences=[GOV])
    t.group("LIC-EMS-E3", "Group-based licensing: EMS E3 (more members than purchased units)",
            ["enrico.cattaneo", "emily.braun", "allan.deyoung", "lynne.robbins", "raul.razo", "cameron.white"],
            licences=["EMS"])
    t.group("Contoso Sales", "Sales team", ["christie.cline", "isaiah.langer", "jordan.lee", "miriam.graham"],
            mail_enabled=True, unified=True)
    return t.document()


def fabrikam_federal() -> dict[str, Any]:
    """GCC High target tenant paired with Contoso: some Contoso users already exist here as B2B members."""
    t = Tenant("fabrikamfederal", "gcch", "Fabrikam Federal", "fabrikamfederal", ["fabrikamfederal.us"],
               ["contoso.com"], "US", "Fabrikam Federal LLC", US_OFFICES, "F")
    # Microsoft cloud settings allow commercial, Contoso is a B2B partner, and the portal-only "cross-cloud
    # synchronization" checkbox for Microsoft Azure Commercial is ticked (samples/README.md)
    t.doc["crossTenantAccessPolicy"] = {"allowedCloudEndpoints": ["microsoftonline.com"],
                                        "partners": [b2b_partner("contoso")],
                                        "@sim.crossCloudSyncFrom": ["microsoftonline.com"]}
    t.sku("SPE_E3_USGOV_GCCHIGH", 20)
    t.sku("SPE_E5_USGOV_GCCHIGH", 6)
    t.sku("EMSPREMIUM_USGOV_GCCHIGH", 3)
    t.sku(GOV, 10)
    m = t.member
    m("Dana", "Whitfield", "IT", "Global Administrator", "ARL", licences=["SPE_E5_USGOV_GCCHIGH", GOV], admin=True)
    m("Marcus", "Reed", "Program Office", "Program Manager", "ARL", licences=["SPE_E3_USGOV_GCCHIGH", GOV])
    m("Tanya", "Brooks", "Contracts", "Contracting Officer", "ARL", licences=["SPE_E3_USGOV_GCCHIGH", GOV],
      hybrid=True)
    m("Luis", "Ortega", "Engineering", "Systems Engineer", "COS", licences=["SPE_E3_USGOV_GCCHIGH"])
    m("Grace", "Kim", "Engineering", "Lead Engineer", "COS", licences=["SPE_E5_USGOV_GCCHIGH"])
    m("Harold", "Price", "Security", "ISSO", "ARL", licences=["EMSPREMIUM_USGOV_GCCHIGH", GOV])
    m("Renee", "Foster", "Finance", "Analyst", "SAT", licences=["SPE_E3_USGOV_GCCHIGH"], hybrid=True)
    m("Owen", "Marsh", "Security", "Security Engineer", "COS",
      licences=["SPE_E3_USGOV_GCCHIGH", (GOV, ["Entra_Identity_Governance"])])
    m("Priya", "Raman", "Program Office", "Deputy PM", "ARL", licences=["SPE_E3_USGOV_GCCHIGH"])
    m("Keith", "Lawson", "Logistics", "Logistics Specialist", "SAT", licences=["SPE_E3_USGOV_GCCHIGH"])
    m("Monica", "Alvarez", "HR", "HR Specialist", "ARL", licences=["SPE_E3_USGOV_GCCHIGH"])
    m("Samuel", "Okoye", "IT", "Help Desk", "SAT")
    m("Beth", "Carver", "Contracts", "Specialist", "ARL", usage_location=False)
    m("Derek", "Holt", "Engineering", "Engineer", "COS", licences=["SPE_E3_USGOV_GCCHIGH"], enabled=False)
    m("Irene", "Castillo", "Finance", "Budget Officer", "ARL", licences=["SPE_E3_USGOV_GCCHIGH"])
    m("Victor", "Nakamura", "Engineering", "Test Engineer", "COS", licences=["SPE_E3_USGOV_GCCHIGH"], hybrid=True)
    m("Gwen", "Thomas", "Logistics", "Supply Officer", "SAT", licences=["SPE_E3_USGOV_GCCHIGH"])
    m("Frank", "Ivers", "Security", "SOC Analyst", "COS", licences=["SPE_E5_USGOV_GCCHIGH", GOV])
    m("Alma", "Ruiz", "HR", "Benefits Specialist", "ARL", licences=["SPE_E3_USGOV_GCCHIGH"])
    # An internal user whose proxyAddresses carry a Contoso address: inviting jordan.lee@contoso.com collides.
    m("Jordan", "Lee", "Contracts", "Liaison", "ARL", alias="jordan.lee", licences=["SPE_E3_USGOV_GCCHIGH"],
      other_mails=["jordan.lee@contoso.com"],
      proxy_addresses=["SMTP:jordan.lee@fabrikamfederal.us", "smtp:jordan.lee@contoso.com"])
    # Contoso users already here as B2B members (creationType Invitation), matched by mail.
    x = t.external
    x("Adele", "Vance", "contoso.com", user_type="Member", job_title="Retail Manager", department="Retail",
      company="Contoso Ltd.")
    x("Alex", "Wilber", "contoso.com", user_type="Member", job_title="Marketing Assistant",
      department="Marketing", company="Contoso Ltd.")
    # Attributes drifted since the last sync: title/department, display name.
    x("Diego", "Siciliani", "contoso.com", user_type="Member", job_title="HR Generalist",
      department="Human Resources", company="Contoso Ltd.")
    x("Lee", "Gu", "contoso.com", user_type="Member", display_name="Lee Gu (Contoso)", job_title="Director",
      department="Manufacturing", company="Contoso")
    # Invited by hand, never redeemed: no alternativeSecurityIds, sync will not join it.
    x("Johanna", "Lorenz", "contoso.com", state="PendingAcceptance", company="Contoso Ltd.")
    # Ordinary guests.
    x("Nora", "Fields", "partner.example")
    x("Paul", "Becker", "vendor.example", state="PendingAcceptance")

    t.group("CCS-Sync-Pilot", "Pilot users (nested in CCS-Sync-Scope)", ["marcus.reed", "tanya.brooks"])
    t.group("CCS-Sync-Scope", "Fabrikam users in scope of sync back to Contoso (commercial)",
            ["CCS-Sync-Pilot", "luis.ortega", "grace.kim", "harold.price", "owen.marsh", "frank.ivers"])
    t.group("LIC-Entra-ID-Governance", "Group-based licensing: Microsoft Entra ID Governance",
            ["luis.ortega", "grace.kim", "priya.raman"], licences=[GOV])
    t.group("Contoso Partners", "B2B members from Contoso",
            ["adele.vance@contoso.com", "alex.wilber@contoso.com", "diego.siciliani@contoso.com", "lee.gu@contoso.com"])
    return t.document()


def litware_gcc() -> dict[str, Any]:
    """GCC tenant (commercial Entra, US Government SKUs)."""
    t = Tenant("litwareps", "gcc", "Litware Public Sector", "litwareps", ["litwareinc.com"], ["litware.net"],
               "US", "Litware Inc.", US_OFFICES, "L")
    t.sku("M365_G3_GOV", 18)
    t.sku("M365_G5_GCC", 6)
    t.sku(GOV, 12)
    t.sku("EMS", 2)
    m = t.member
    m("Helen", "Marsh", "IT", "Global Administrator", "ARL", licences=["M365_G5_GCC", GOV], admin=True)
    for given, surname, dept, title, office, lic, kw in (
            ("Aaron", "Pike", "Public Works", "Engineer", "ARL", ["M365_G3_GOV", GOV], {}),
            ("Bianca", "Reyes", "Public Works", "Planner", "SAT", ["M365_G3_GOV", GOV], {"hybrid": True}),
            ("Carl", "Nguyen", "Finance", "Budget Officer", "ARL", ["M365_G5_GCC", GOV], {}),
            ("Dina", "Shah", "Finance", "Accountant", "ARL", ["M365_G3_GOV"], {}),
            ("Eli", "Ford", "Health", "Epidemiologist", "COS", ["M365_G5_GCC"], {}),
            ("Farah", "Aziz", "Health", "Nurse Coordinator", "COS", ["M365_G3_GOV"], {"hybrid": True}),
            ("Gus", "Olsen", "Transport", "Fleet Manager", "SAT", ["M365_G3_GOV", (GOV, ["Entra_Identity_Governance"])],
             {}),
            ("Hope", "Daniels", "Transport", "Dispatcher", "SAT", ["M365_G3_GOV", GOV],
             {"errors": {GOV: "MutuallyExclusiveViolation"}}),
            ("Ian", "Brady", "IT", "Network Engineer", "ARL", ["M365_G3_GOV"], {}),
            ("Jill", "Carter", "IT", "Identity Engineer", "ARL", ["M365_G3_GOV"], {}),
            ("Kurt", "Maddox", "Legal", "Counsel", "ARL", ["M365_G3_GOV"], {}),
            ("Lena", "Vogel", "Legal", "Paralegal", "ARL", [GOV], {}),
            ("Mia", "Santos", "HR", "HR Officer", "COS", ["M365_G3_GOV"], {}),
            ("Ned", "Parker", "HR", "Recruiter", "COS", [], {}),
            ("Olive", "Grant", "Public Works", "Inspector", "SAT", ["M365_G3_GOV"], {"enabled": False}),
            ("Pete", "Lowe", "Finance", "Intern", "ARL", [], {"usage_location": False}),
            ("Quinn", "Hale", "Health", "Analyst", "COS", ["M365_G3_GOV"], {}),
            ("Rosa", "Jimenez", "Transport", "Planner", "SAT", ["M365_G3_GOV"], {}),
            ("Stan", "Wood", "IT", "Help Desk", "ARL", ["M365_G3_GOV"], {}),
            ("Tara", "Quill", "Health", "Director", "COS", ["M365_G5_GCC", GOV], {}),
            ("Uri", "Bloom", "Legal", "Records Officer", "ARL", [], {"enabled": False}),
            ("Vera", "Cole", "Finance", "Controller", "ARL", ["M365_G5_GCC"], {}),
            ("Walt", "Price", "Public Works", "Director", "SAT", ["M365_G3_GOV"], {"hybrid": True}),
            ("Xena", "Hart", "Transport", "Analyst", "SAT", ["M365_G3_GOV"], {})):
        m(given, surname, dept, title, office, licences=lic, **kw)
    t.external("Gil", "Moss", "vendor.example")
    t.external("Ada", "Lane", "contoso.com", company="Contoso Ltd.")
    t.group("CCS-Sync-Pilot", "Pilot users (nested in CCS-Sync-Scope)", ["aaron.pike", "bianca.reyes"])
    t.group("CCS-Sync-Scope", "Users in scope of sync", ["CCS-Sync-Pilot", "carl.nguyen", "dina.shah", "eli.ford",
                                                         "gus.olsen", "hope.daniels", "ian.brady", "jill.carter"])
    t.group("LIC-Entra-ID-Governance", "Group-based licensing: Microsoft Entra ID Governance",
            ["ian.brady", "jill.carter", "kurt.maddox"], licences=[GOV])
    t.group("LIC-EMS-E3", "Group-based licensing: EMS E3 (3 members, 2 units)",
            ["mia.santos", "quinn.hale", "rosa.jimenez"], licences=["EMS"])
    return t.document()


def tailspin_dod() -> dict[str, Any]:
    """DoD tenant (Azure Government, dod-graph)."""
    t = Tenant("tailspindefense", "dod", "Tailspin Defense", "tailspindefense", ["tailspindefense.com"],
               ["tailspin.net"], "US", "Tailspin Defense", US_OFFICES, "D")
    t.sku("SPE_E3_USGOV_DOD", 24)
    t.sku(GOV, 12)
    m = t.member
    m("Ruth", "Calder", "IT", "Global Administrator", "COS", licences=["SPE_E3_USGOV_DOD", GOV], admin=True)
    names = [("Abel", "Stone"), ("Bree", "Mills"), ("Cole", "Ward"), ("Dora", "Finch"), ("Evan", "Kerr"),
             ("Faye", "Lund"), ("Glen", "Ross"), ("Hana", "Ito"), ("Ivo", "Petrov"), ("Jade", "Moreno"),
             ("Kirk", "Olson"), ("Lana", "Frost"), ("Milo", "Grant"), ("Nina", "Roth"), ("Otto", "Berg"),
             ("Pia", "Sorensen"), ("Reid", "Cobb"), ("Sonia", "Vega"), ("Theo", "Nash"), ("Una", "Walsh"),
             ("Vic", "Yates"), ("Wren", "Hayes"), ("Yara", "Costa"), ("Zane", "Doyle")]
    depts = [("Logistics", "Logistics Officer"), ("Intelligence", "Analyst"), ("IT", "Cyber Operator"),
             ("Acquisition", "Contract Specialist"), ("Medical", "Medical Officer"), ("Training", "Instructor")]
    for n, (given, surname) in enumerate(names):
        dept, title = depts[n % len(depts)]
        lic: list[Any] = ["SPE_E3_USGOV_DOD"] if n % 7 != 6 else []
        if n % 3 == 0 and lic:
            lic.append(GOV if n != 9 else (GOV, ["Entra_Identity_Governance"]))
        m(given, surname, dept, title, ("COS", "ARL", "SAT")[n % 3], licences=lic, hybrid=n % 4 == 0,
          enabled=n not in (5, 17), usage_location=n != 13)  # n=13 holds no licence
    t.external("Cal", "Fisher", "vendor.example")
    t.group("CCS-Sync-Pilot", "Pilot users (nested in CCS-Sync-Scope)", ["abel.stone", "bree.mills"])
    t.group("CCS-Sync-Scope", "Users in scope of sync",
            ["CCS-Sync-Pilot", "cole.ward", "dora.finch", "evan.kerr", "glen.ross", "hana.ito"])
    t.group("LIC-Entra-ID-Governance", "Group-based licensing: Microsoft Entra ID Governance",
            ["bree.mills", "cole.ward", "evan.kerr"], licences=[GOV])
    return t.document()


def wingtip_china() -> dict[str, Any]:
    """China (21Vianet) tenant; commercial SKU identifiers stand in for 21Vianet ones (not published)."""
    t = Tenant("wingtipcn", "china", "Wingtip Toys China", "wingtipcn", ["wingtiptoys.cn"], ["wingtiptoys.com.cn"],
               "CN", "Wingtip Toys (Shanghai) Co., Ltd.", CN_OFFICES, "W")
    t.sku("SPE_E3", 20)
    t.sku("EMS", 4)
    t.sku(GOV, 10)
    m = t.member
    m("Li", "Na", "IT", "Global Administrator", "SHA", alias="li.na", licences=["SPE_E3", GOV], admin=True)
    people = [("Wang", "Fang"), ("Zhang", "Wei"), ("Liu", "Yang"), ("Chen", "Jing"), ("Yang", "Min"),
              ("Huang", "Lei"), ("Zhao", "Qiang"), ("Wu", "Xiu"), ("Zhou", "Jun"), ("Xu", "Li"), ("Sun", "Hao"),
              ("Ma", "Lin"), ("Zhu", "Yan"), ("Hu", "Bo"), ("Guo", "Hui"), ("He", "Tao"), ("Gao", "Ping"),
              ("Lin", "Yun"), ("Luo", "Gang"), ("Zheng", "Mei"), ("Liang", "Jie"), ("Song", "Kai"),
              ("Xie", "Ling"), ("Tang", "Rui")]
    depts = [("Sales", "Sales Manager"), ("Manufacturing", "Production Engineer"), ("Finance", "Accountant"),
             ("Supply Chain", "Buyer"), ("IT", "System Engineer")]
    for n, (surname, given) in enumerate(people):
        dept, title = depts[n % len(depts)]
        lic: list[Any] = ["SPE_E3"] if n % 6 != 5 else []
        if n % 4 == 0 and lic:
            lic.append(GOV)
        if n in (3, 7):
            lic = ["EMS"]
        m(given, surname, dept, title, ("SHA", "PEK", "SZX")[n % 3], alias=f"{given}.{surname}".lower(),
          display_name=f"{surname} {given}", licences=lic, hybrid=n % 5 == 0, enabled=n != 11,
          usage_location=n != 17)  # n=17 holds no licence
    t.external("Olivia", "Chan", "partner.example")
    t.group("CCS-Sync-Pilot", "Pilot users (nested in CCS-Sync-Scope)", ["fang.wang", "wei.zhang"])
    t.group("CCS-Sync-Scope", "Users in scope of sync", ["CCS-Sync-Pilot", "yang.liu", "jing.chen", "min.yang"])
    t.group("LIC-Entra-ID-Governance", "Group-based licensing: Microsoft Entra ID Governance",
            ["jing.chen", "min.yang", "lei.huang"], licences=[GOV])
    return t.document()


BUILDERS = {"commercial": contoso, "gcc": litware_gcc, "gcch": fabrikam_federal, "dod": tailspin_dod,
            "china": wingtip_china}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def build() -> dict[str, str]:
    """{file name: JSON text} of the five seed files (not written)."""
    return {f"{cloud}.json": render(builder()) for cloud, builder in BUILDERS.items()}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, text in build().items():
        path = HERE / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        sys.stderr.write(f"stale seed files (run python samples/tenants/build_seeds.py): {', '.join(stale)}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
