"""Fake personal data for pii-ner's generated training texts (tools/train/pii_carriers.py): pools of values per
slot, drawn once per seed from the fake-data library (Debian python3-fake-factory, 50 locales) and from format
rules (tools/train/pii.py's gen_pii_value), then sampled with numpy.

    pools = ValuePools(seed)
    pools.draw("PERSON", rng)      -> "Dorota Sudak"
    SLOT_TYPE["PERSON"]            -> the entity type the slot's value is tagged with (None: not tagged)

A slot is a kind of value written in a carrier sentence as {SLOT}; several slots share a type (FIRST, LAST,
PERSON are all PERSON). Slots whose type is None are ordinary words (weekdays, clock times, equipment
numbers, ticket numbers, software terms): they are there so that the model sees numbers, codes and
capitalized words that are NOT personal data.
"""

import datetime

import numpy as np

from tools.train.pii import gen_pii_value

# Locales and their weights: English ones most (the texts are English), then many others' names and addresses.
LOCALES = (("en_US", 10), ("en_GB", 6), ("en_AU", 2), ("en_CA", 2), ("en_IE", 1), ("en_NZ", 1), ("de_DE", 3),
           ("de_AT", 1), ("de_CH", 1), ("fr_FR", 3), ("fr_CH", 1), ("it_IT", 2), ("es_ES", 2), ("es_MX", 2),
           ("pt_BR", 2), ("pt_PT", 1), ("nl_NL", 2), ("nl_BE", 1), ("pl_PL", 2), ("cs_CZ", 1), ("sk_SK", 1),
           ("hu_HU", 1), ("ro_RO", 1), ("bg_BG", 1), ("hr_HR", 1), ("sl_SI", 1), ("sv_SE", 1), ("no_NO", 1),
           ("dk_DK", 1), ("fi_FI", 1), ("et_EE", 1), ("lv_LV", 1), ("lt_LT", 1), ("el_GR", 1), ("ru_RU", 2),
           ("uk_UA", 1), ("tr_TR", 2), ("ar_SA", 1), ("ar_EG", 1), ("fa_IR", 1), ("he_IL", 1), ("hi_IN", 2),
           ("ne_NP", 1), ("zh_CN", 2), ("zh_TW", 1), ("ja_JP", 2), ("ko_KR", 1), ("th_TH", 1), ("id_ID", 1),
           ("ka_GE", 1))
ENGLISH = tuple(l for l, _ in LOCALES if l.startswith("en_"))
PER_LOCALE = 120  # values of each slot drawn per locale

SLOT_TYPE = {
    "PERSON": "PERSON", "FIRST": "PERSON", "LAST": "PERSON", "HANDLE": "PERSON",
    "HONORIFIC": "TITLE", "JOB": "TITLE",
    "PHONE": "PHONE_NUMBER", "EMAIL": "EMAIL_ADDRESS",
    "ADDRESS": "STREET_ADDRESS", "STREET": "STREET_ADDRESS",
    "CITY": "GPE", "COUNTRY": "GPE", "STATE": "GPE",
    "ZIP": "ZIP_CODE", "ORG": "ORGANIZATION", "DATE": "DATE_TIME", "AGE": "AGE",
    "CARD": "CREDIT_CARD", "IBAN": "IBAN_CODE", "IP": "IP_ADDRESS", "URL": "DOMAIN_NAME",
    "SSN": "US_SSN", "DL": "US_DRIVER_LICENSE", "NRP": "NRP",
    # ordinary words: never tagged
    "WEEKDAY": None, "TIME": None, "NUM": None, "EQUIP": None, "TICKET": None, "TECH": None, "MONTH": None,
}

NRP_VALUES = ("American", "British", "Irish", "Canadian", "Mexican", "Brazilian", "Argentinian", "German", "French",
              "Italian", "Spanish", "Portuguese", "Dutch", "Belgian", "Swiss", "Austrian", "Polish", "Czech",
              "Slovak", "Hungarian", "Romanian", "Bulgarian", "Croatian", "Serbian", "Greek", "Turkish", "Swedish",
              "Norwegian", "Danish", "Finnish", "Estonian", "Latvian", "Lithuanian", "Russian", "Ukrainian",
              "Chinese", "Japanese", "Korean", "Vietnamese", "Thai", "Filipino", "Indonesian", "Indian",
              "Pakistani", "Bangladeshi", "Nepali", "Iranian", "Iraqi", "Syrian", "Lebanese", "Israeli",
              "Egyptian", "Moroccan", "Nigerian", "Ghanaian", "Kenyan", "Ethiopian", "Somali", "South African",
              "Australian", "New Zealander", "Catholic", "Protestant", "Muslim", "Jewish", "Hindu", "Buddhist",
              "Sikh", "Orthodox Christian", "Mormon", "Democrat", "Republican", "Labour", "Conservative",
              "Green Party", "Hispanic", "Latino", "Asian American", "African American", "Kurdish", "Roma")
HONORIFICS = ("Mr.", "Mrs.", "Ms.", "Miss", "Dr.", "Prof.", "Mr", "Mrs", "Ms", "Dr", "Sir", "Mx.", "Rev.")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "monday", "friday",
            "tomorrow", "today", "tonight", "next week", "this afternoon", "Mon", "Fri", "the weekend")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec")
TECH = ("Login", "login", "UTC", "VPN", "SSO", "API", "Wi-Fi", "wifi", "Outlook", "Excel", "SAP", "Teams", "Zoom",
        "Slack", "Chrome", "Windows 11", "iOS", "Android", "macOS", "Linux", "Bluetooth", "USB-C", "HDMI", "PDF",
        "SQL", "CRM", "ERP", "MFA", "2FA", "OTP", "PIN", "DNS", "HTTP 500", "error 404", "Error 0x80070005",
        "firmware", "PLC", "SCADA", "HMI", "ECU", "GPS", "RFID", "OEM", "QA", "KPI", "SLA", "ETA", "PO", "RMA",
        "the portal", "the app", "the dashboard", "Settings", "Admin", "Support", "Billing", "Checkout", "Cart",
        "Dark Mode", "Sync", "Export", "Print", "Save", "Cancel", "Submit", "OK", "Reset Password", "Help Center")
EQUIP_HEADS = ("pump", "excavator", "truck", "conveyor", "CV", "compressor", "boiler", "crusher", "haul truck", "loader",
               "dozer", "drill", "fan", "motor", "valve", "tank", "line", "unit", "bay", "gen", "generator", "HT",
               "EX", "DZ", "PMP", "CMP", "feeder", "screen", "chiller", "AHU", "forklift", "crane", "press")


def _fmt_date(d, rng):
    """A calendar date written one of the ways people write them."""
    m = MONTHS[d.month - 1]
    k = rng.randint(12)
    if k == 0:
        return "%02d/%02d/%d" % (d.month, d.day, d.year)
    if k == 1:
        return "%d/%d/%d" % (d.day, d.month, d.year)
    if k == 2:
        return "%d %s %d" % (d.day, m, d.year)
    if k == 3:
        return "%s %d, %d" % (m, d.day, d.year)
    if k == 4:
        return d.isoformat()
    if k == 5:
        return "%02d.%02d.%d" % (d.day, d.month, d.year)
    if k == 6:
        return "%d-%s-%d" % (d.day, m[:3], d.year)
    if k == 7:
        return "%d %s" % (d.day, m)
    if k == 8:
        return "%s %d%s" % (m, d.day, "th" if d.day % 10 > 3 or d.day // 10 == 1 or d.day % 10 == 0 else
                            ("st", "nd", "rd")[d.day % 10 - 1])
    if k == 9:
        return "%02d/%02d/%02d" % (d.day, d.month, d.year % 100)
    if k == 10:
        return "%s %02d:%02d" % (d.isoformat(), rng.randint(24), rng.randint(60))
    return str(d.year)


def _spaced_card(n, rng):
    k = rng.randint(4)
    if k == 1 and len(n) == 16:
        return " ".join(n[i:i + 4] for i in range(0, 16, 4))
    if k == 2 and len(n) == 16:
        return "-".join(n[i:i + 4] for i in range(0, 16, 4))
    return n


class ValuePools:
    """Per-slot pools of (value, locale), drawn once from the fake-data library with a fixed seed."""

    def __init__(self, seed, per_locale=PER_LOCALE):
        import faker  # Debian python3-fake-factory
        rng = np.random.RandomState(seed)
        self.pools = {k: [] for k in SLOT_TYPE}
        self.weights = {}
        for loc, _w in LOCALES:
            f = faker.Faker(loc)
            f.seed_instance(seed)
            for _ in range(per_locale):
                self._add(f, loc, rng)
        en = faker.Faker("en_US")
        en.seed_instance(seed + 1)
        for _ in range(600):
            self.pools["COUNTRY"].append((en.country(), "en_US"))
            self.pools["STATE"].append((en.state() if rng.randint(3) else en.state_abbr(), "en_US"))
            self.pools["JOB"].append((en.job(), "en_US"))
            self.pools["SSN"].append((en.ssn(), "en_US"))
        for t in ("SSN", "DL", "CARD", "IBAN", "PHONE", "IP", "URL"):
            for _ in range(400):
                v = gen_pii_value({"SSN": "US_SSN", "DL": "US_DRIVER_LICENSE", "CARD": "CREDIT_CARD",
                                   "IBAN": "IBAN_CODE", "PHONE": "PHONE_NUMBER", "IP": "IP_ADDRESS",
                                   "URL": "DOMAIN_NAME"}[t], rng, ["Alex Smith"])
                self.pools[t].append((v, "rule"))
        lw = dict(LOCALES)
        for k, pool in self.pools.items():
            w = np.array([lw.get(loc, 4.0) for _, loc in pool], dtype=np.float64)
            self.weights[k] = w / w.sum() if len(w) else None

    def _add(self, f, loc, rng):
        p = self.pools

        def safe(fn, *a):
            try:
                v = fn(*a)
            except (AttributeError, ValueError, KeyError, TypeError, IndexError):
                return None
            return v if isinstance(v, str) and v.strip() else None

        first, last = safe(f.first_name), safe(f.last_name)
        name = safe(f.name)
        for slot, v in (("PERSON", name), ("FIRST", first), ("LAST", last), ("PHONE", safe(f.phone_number)),
                        ("EMAIL", safe(f.email)), ("STREET", safe(f.street_address)), ("CITY", safe(f.city)),
                        ("ZIP", safe(f.postcode)), ("ORG", safe(f.company)), ("IP", safe(f.ipv4)),
                        ("URL", safe(f.url) if rng.randint(2) else safe(f.domain_name))):
            if v:
                p[slot].append((v.strip(), loc))
        if first and last and rng.randint(4) == 0:  # with a middle initial, or last name first
            p["PERSON"].append(((first + " " + "ABCDEFGHJKLMNPRSTW"[rng.randint(18)] + ". " + last)
                                if rng.randint(2) else (last + ", " + first), loc))
        addr = safe(f.address)
        if addr:
            lines = [x.strip() for x in addr.split("\n") if x.strip()]
            sep = ("\n", ", ", ", ", " ")[rng.randint(4)]
            p["ADDRESS"].append((sep.join(lines), loc))
        if first and last and rng.randint(2):
            dom = safe(f.free_email_domain) or "mail.com"
            local = (first + "." + last, first[0] + last, first + last[:1], first + str(rng.randint(100)),
                     last + "_" + first)[rng.randint(5)]
            if local.isascii():
                p["EMAIL"].append((local.lower().replace(" ", "") + "@" + dom, loc))
        user = safe(f.user_name)
        if user:
            p["HANDLE"].append(("@" + user, loc))
        iban = safe(f.iban)
        if iban and iban[:2] == loc[-2:]:
            p["IBAN"].append((iban if rng.randint(3) else " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)),
                              loc))
        cc = safe(f.credit_card_number)
        if cc:
            p["CARD"].append((_spaced_card(cc, rng), loc))
        try:
            dob = f.date_of_birth(minimum_age=1, maximum_age=95)
        except (AttributeError, TypeError, ValueError):
            dob = datetime.date(1950 + rng.randint(60), 1 + rng.randint(12), 1 + rng.randint(28))
        p["DATE"].append((_fmt_date(dob, rng), loc))
        d = datetime.date(2015 + rng.randint(11), 1 + rng.randint(12), 1 + rng.randint(28))
        p["DATE"].append((_fmt_date(d, rng), loc))

    def draw(self, slot, rng):
        """A value of the slot (ordinary-word slots are made up on the spot)."""
        r = rng.randint
        if slot == "AGE":
            return str(1 + r(95)) if r(5) else str(18 + r(60))
        if slot == "HONORIFIC":
            return HONORIFICS[r(len(HONORIFICS))]
        if slot == "NRP":
            return NRP_VALUES[r(len(NRP_VALUES))]
        if slot == "WEEKDAY":
            return WEEKDAYS[r(len(WEEKDAYS))]
        if slot == "MONTH":
            return MONTHS[r(len(MONTHS))]
        if slot == "TIME":
            return ("%d%s" % (1 + r(12), ("am", "pm", " am", " pm", "AM", "PM")[r(6)]) if r(2) else
                    "%02d:%02d" % (r(24), 15 * r(4)) + ("" if r(3) else " UTC" if r(2) else " hrs"))
        if slot == "NUM":
            return str(r(200)) if r(3) else "%d.%d" % (r(100), r(10))
        if slot == "EQUIP":
            h = EQUIP_HEADS[r(len(EQUIP_HEADS))]
            return ("%s %d" % (h, 1 + r(40)) if r(3) else "%s-%d%s" % (h.upper().replace(" ", ""), r(999),
                                                                        "ABCD"[r(4)] if r(3) == 0 else ""))
        if slot == "TICKET":
            return ("INC%07d" % r(10 ** 7), "#%d" % (1000 + r(90000)), "WO-%d" % (10000 + r(90000)),
                    "case %d" % (100000 + r(900000)), "order %d-%d" % (100 + r(900), 1000 + r(9000)),
                    "PO %d" % (4500000000 + r(10 ** 6)), "ticket #%d" % r(100000), "REF-%d" % r(99999))[r(8)]
        if slot == "TECH":
            return TECH[r(len(TECH))]
        pool = self.pools[slot]
        return pool[rng.choice(len(pool), p=self.weights[slot])][0]
