"""Built-in detectors for things a word list cannot express.

Each detector is a small function ``detect_<name>(ctx) -> list[Finding]`` over the
normalised text (and, where case matters, the original), with a cheap prefilter first so
the common clean comment costs almost nothing. Rules in the document pick a detector by
name and optionally a subset of its ``kinds``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    start: int  # offsets into the normalised text
    end: int


_ANY_DIGIT = re.compile(r"[0-9]")
# Phone and NHS numbers are written with at least one group of three digits.
# (starting a run, and not inside an HTML entity such as &#8220;)
_DIGIT_GROUP = re.compile(r"[0-9](?<![&#0-9][0-9])[0-9][0-9]")


class Context:
    """What a detector sees: the folded text plus the compiled rule set's lists."""

    __slots__ = ("norm", "original", "lists", "_digits")

    def __init__(self, norm: str, original: str, lists: "DetectorLists"):
        self.norm = norm
        self.original = original
        self.lists = lists
        self._digits = -1

    @property
    def digit_count(self) -> int:
        """Digits in the text; the cheap prefilter for every number-shaped detector."""
        if self._digits < 0:
            if _ANY_DIGIT.search(self.norm) is None:
                self._digits = 0
            else:
                self._digits = sum(map(self.norm.count, "0123456789"))
        return self._digits


@dataclass(frozen=True, slots=True)
class DetectorLists:
    """Compiled lists detectors need (from the document)."""

    own_numbers: frozenset[str]  # national significant numbers, digits only
    own_emails: frozenset[str]
    allow_domains: tuple[str, ...]
    deny_domains: tuple[str, ...]
    deny_domain_words: tuple[str, ...]
    shorteners: tuple[str, ...]
    platform_domains: tuple[str, ...]


# -- NHS numbers ------------------------------------------------------------------------
_NHS_CANDIDATE = re.compile(r"(?<![0-9])([0-9]{3})[ \-]?([0-9]{3})[ \-]?([0-9]{4})(?![0-9])")


def nhs_number_valid(digits: str) -> bool:
    """Modulus 11 check of a 10-digit NHS number."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def detect_nhs_number(ctx: Context) -> list[Finding]:
    if _DIGIT_GROUP.search(ctx.norm) is None or ctx.digit_count < 10:
        return []
    out = []
    for m in _NHS_CANDIDATE.finditer(ctx.norm):
        digits = "".join(m.groups())
        if digits in ctx.lists.own_numbers or digits.lstrip("0") in ctx.lists.own_numbers:
            continue
        # Phone numbers start with 0; NHS numbers never do.
        if digits[0] != "0" and nhs_number_valid(digits):
            out.append(Finding("nhs_number", m.start(), m.end()))
    return out


# -- phone numbers ----------------------------------------------------------------------
# A candidate is a run of digits with the usual separators; phonenumbers parses only these,
# and only the first few, so a comment full of digits stays cheap.
_PHONE_CANDIDATE = re.compile(
    r"[+0-9](?<![0-9][+0-9])(?<!&#[0-9])(?:(?<=\+)[0-9])?[0-9 ()\-.]{5,18}(?<=[0-9])(?![0-9])"
)
_MAX_PHONE_CANDIDATES = 5


def own_number_key(raw: str) -> str:
    """National significant number of a published number ('01522 309317' -> '1522309317')."""
    try:
        return str(phonenumbers.parse(raw, "GB").national_number)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", raw).lstrip("0")


def detect_phone(ctx: Context) -> list[Finding]:
    if (
        _DIGIT_GROUP.search(ctx.norm) is None or ctx.digit_count < 7
    ):  # nothing can be a phone number; skip the parser
        return []
    out = []
    for n, m in enumerate(_PHONE_CANDIDATE.finditer(ctx.norm)):
        if n >= _MAX_PHONE_CANDIDATES:
            break
        raw = m.group()
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 7 or len(digits) > 15:
            continue
        try:
            num = phonenumbers.parse(raw, "GB")
        except phonenumbers.NumberParseException:
            continue
        nsn = str(num.national_number)
        if nsn in ctx.lists.own_numbers:
            continue
        if _SERVICE_NUMBER.search(ctx.norm, max(0, m.start() - 45), m.start()) is not None:
            continue  # "our practice number is ...": a service's number, not a person's
        # Written like a UK or international number, a possible one is enough: Ofcom's ranges
        # for drama (07700 900xxx, 01632 960xxx) are not "valid", but a comment sharing one
        # is sharing a number all the same. (Bare digit runs must be valid: NHS numbers and
        # account ids are possible phone numbers too.)
        if phonenumbers.is_valid_number(num) or (
            raw[0] in "0+" and phonenumbers.is_possible_number(num)
        ):
            out.append(Finding("phone", m.start(), m.end()))
    return out


# A number introduced as a service's own line ("our practice number is", "ring the surgery
# on"): the organisation's and its services' published numbers are not personal information.
_SERVICE_NUMBER = re.compile(
    r"\b(?:our|the|your|their)(?: local)? (?:gp |doctors |dental |)?(?:practice|surgery|clinic|ward|"
    r"hospital|pharmacy|chemist|reception|switchboard|helpline|help line|crisis line|crisis team|"
    r"team|office|department|appointments? line|booking line|centre|center|unit|service)(?:'s)?"
    r"(?: (?:phone )?(?:number|no|line|tel|telephone|phone))?(?: is| on| =|:)? *[^a-z0-9]{0,3}$"
)


# -- e-mail -----------------------------------------------------------------------------
_EMAIL = re.compile(r"[a-z0-9._%+\-]{1,64}+@[a-z0-9\-]{1,63}+(?:\.[a-z0-9\-]{1,63}+){1,4}+")


_EMAIL_HINT = re.compile(r"@[a-z0-9\-]{1,63}\.[a-z]")


def detect_email(ctx: Context) -> list[Finding]:
    if "@" not in ctx.norm or _EMAIL_HINT.search(ctx.norm) is None:
        return []
    out = []
    for m in _EMAIL.finditer(ctx.norm):
        addr = m.group().strip(".")
        if "." not in addr.split("@", 1)[1] or addr in ctx.lists.own_emails:
            continue
        out.append(Finding("email", m.start(), m.start() + len(addr)))
    return out


# -- postcodes, addresses, dates of birth --------------------------------------------------
_POSTCODE = re.compile(
    r"(?<![a-z0-9])[a-z]{1,2}[0-9][a-z0-9]? ?[0-9][abd-hjlnp-uw-z]{2}(?![a-z0-9])"
)
_STREET = re.compile(
    r"(?<![a-z0-9])[0-9]{1,4}[a-z]? (?:[a-z']{2,20} ){1,2}"
    r"(?:road|rd|street|avenue|ave|lane|close|drive|way|crescent|court|place|gardens|"
    r"terrace|grove|square|mews)(?![a-z])"
)
_DOB = re.compile(
    r"(?:\bdob\b|date of birth|\bborn on\b|\bd\.o\.b)[^0-9a-z]{0,5}(?:(?:is|was|=)[^0-9a-z]{0,3})?"
    r"(?:[0-9]{1,2}[/.\-][0-9]{1,2}[/.\-][0-9]{2,4}|[0-9]{1,2}(?:st|nd|rd|th)? [a-z]{3,9} [0-9]{4})"
)


_POSTCODE_HINT = re.compile(r"[0-9][abd-hjlnp-uw-z]{2}(?![a-z0-9])")


def detect_postcode(ctx: Context) -> list[Finding]:
    if _POSTCODE_HINT.search(ctx.norm) is None:
        return []
    return [Finding("postcode", m.start(), m.end()) for m in _POSTCODE.finditer(ctx.norm)]


def detect_street_address(ctx: Context) -> list[Finding]:
    if ctx.digit_count == 0:
        return []
    return [Finding("street_address", m.start(), m.end()) for m in _STREET.finditer(ctx.norm)]


def detect_date_of_birth(ctx: Context) -> list[Finding]:
    if ctx.digit_count == 0:
        return []
    return [Finding("date_of_birth", m.start(), m.end()) for m in _DOB.finditer(ctx.norm)]


# -- a named patient with a condition ------------------------------------------------------
# Works on the original text because capitalisation is what marks a name. Only runs when the
# folded text mentions admission/diagnosis wording.
_CONDITION = re.compile(
    r"\b(?:admitted|diagnosed|in hospital|on ward|in a&e|in icu|passed away|died|"
    r"stroke|cancer|dementia|heart attack|overdose|sectioned|miscarriage|hiv|covid)\b"
)
_FULL_NAME = re.compile(
    r"(?<![\w@])(?:[A-Z][a-z]{1,20}+) (?:[A-Z][a-z]{1,20}+)(?:-[A-Z][a-z]+)?(?![\w])"
)
_NAME_CONTEXT = re.compile(
    r"\b(?:my|our|her|his|their)? ?(?:neighbour|friend|mum|mother|dad|father|nan|gran|"
    r"grandad|son|daughter|wife|husband|sister|brother|aunt|uncle|patient|colleague)\b"
)
# Or a person placed on a ward or in a bed with a medical condition ("John Smith on ward 4 has
# got HIV"); the condition must then be a diagnosis, not just being in hospital.
_PLACED = re.compile(r"\b(?:on|in) (?:ward|bay|bed|room|cubicle|side room) ?[0-9a-z]{0,3}\b")
_DIAGNOSIS = re.compile(
    r"\b(?:diagnosed|stroke|cancer|dementia|heart attack|overdose|sectioned|miscarriage|hiv|"
    r"aids|covid|hepatitis|tb|tuberculosis|syphilis|chlamydia|psychosis|schizophreni\w*|"
    r"bipolar|anorexi\w*|bulimi\w*)\b"
)
# A name after a staff title is staff ("Nurse Kelly"); after a courtesy title it may be a
# patient ("my neighbour Mrs Wilson"), unless only a ward places them.
_STAFF_TITLES = frozenset("Nurse Doctor Dr Sister Matron Prof Professor Midwife Consultant".split())
_COURTESY_TITLES = frozenset("Mr Mrs Ms Miss".split())
_NOT_NAMES = frozenset(
    "Pilgrim Hospital Lincoln County Grantham Hospital Boston Hospital Louth County Happy New "
    "New Year Good Morning Good Friday Easter Monday Bank Holiday Urgent Treatment".split()
)


def detect_patient_condition(ctx: Context) -> list[Finding]:
    if _CONDITION.search(ctx.norm) is None:
        return []
    related = _NAME_CONTEXT.search(ctx.norm) is not None
    if not related and (_PLACED.search(ctx.norm) is None or _DIAGNOSIS.search(ctx.norm) is None):
        return []
    if len(ctx.original) != len(ctx.norm):
        return []  # offsets differ; a rare case, left to the other detectors
    out = []
    for m in _FULL_NAME.finditer(ctx.original):
        first, _, last = m.group().partition(" ")
        if first in _NOT_NAMES or last in _NOT_NAMES:
            continue
        if first in _STAFF_TITLES or (not related and first in _COURTESY_TITLES):
            continue  # "Nurse Kelly on ward 5": staff, not a patient
        out.append(Finding("patient_condition", m.start(), m.end()))
    return out


# -- a named person placed at a service ------------------------------------------------------
_NAMED_AT_SERVICE = re.compile(
    r"(?<![\w@])[A-Z][a-z]{1,20}+ (?:from|at|on|in) (?:the )?(?:[A-Z][\w&']*+ ){0,3}"
    r"(?:[Pp]ractice|[Ss]urgery|[Ww]ard|[Cc]linic|[Rr]eception|[Pp]harmacy|A&E|ICB|[Hh]ospital)\b"
)
_NOT_FIRST_NAMES = frozenset(
    "The This That Someone Somebody Everyone Staff Nurses Doctors I We They He She".split()
)


# Every match names one of these services. With equal lengths the folded text is the
# original character for character with ASCII letters lower-cased, so a match in the
# original implies one of these in the folded text: a cheap necessary condition.
_SERVICE_HINT = re.compile(r"practice|surgery|ward|clinic|reception|pharmacy|a&e|icb|hospital")


def detect_named_person_at_service(ctx: Context) -> list[Finding]:
    """'Karen from the Spalding practice': works on the original text (capitals mark a name)."""
    if len(ctx.original) != len(ctx.norm) or " the " not in ctx.norm and " at " not in ctx.norm:
        return []
    if _SERVICE_HINT.search(ctx.norm) is None:
        return []
    out = []
    for m in _NAMED_AT_SERVICE.finditer(ctx.original):
        if m.group().split(" ", 1)[0] in _NOT_FIRST_NAMES:
            continue
        out.append(Finding("named_person_at_service", m.start(), m.end()))
    return out


# -- links --------------------------------------------------------------------------------
_LINK = re.compile(
    r"(?<![a-z0-9\-@.])(?:(?:https?|hxxps?|h\*\*ps?)(?::|\[:\])//|www(?:\.|\[\.\]|\(\.\)))?"
    r"((?:[a-z0-9][a-z0-9\-]{0,62}+(?:\.|\[\.\]|\(\.\)|\(dot\)|\[dot\]| dot ))"
    r"{1,4}+(?:com|net|org|uk|co|io|ly|gl|me|info|biz|tv|xyz|ru|example|online|site|shop|app|gg|"
    r"us|be|to|nhs|gov|edu|html|club|live|link|store|top|vip|win|bet|porn|xxx|sex|cam)"
    r"(?![a-z0-9]))(?:/[^\s]{0,200}+)?"
)
_DEFANGED = re.compile(r"hxxp|\[\.\]|\(\.\)|\(dot\)|\[dot\]| dot (?:com|net|org|co)\b|h\*\*p")
# Anything link-shaped at all: a known TLD after a dot, a scheme, or a defanged dot. Written
# as substring searches for the plain literals and one regex for the rest, whose every branch
# starts with ".", "[" or "(", which the regex engine skips to (as one regex with a branch
# starting with a space, it was tried at every space: seven times slower).
_LINK_HINT_DOTS = re.compile(
    r"\.(?:com|net|org|uk|co|io|ly|gl|me|info|biz|tv|xyz|ru|example|online|site|shop|app|gg|us|"
    r"be|to|nhs|gov|edu|html|club|live|link|store|top|vip|win|bet|porn|xxx|sex|cam)(?![a-z0-9])"
    r"|\[\.\]|\(\.\)|\(dot\)|\[dot\]"
)
_DOT_WORD = re.compile(r" dot (?:com|net|org|co)")
_SCHEME = re.compile(r"https?:")


def _link_hint(norm: str) -> bool:
    """A link, a scheme or a defanged dot could be in ``norm``."""
    if "hxxp" in norm or "http" in norm and _SCHEME.search(norm) is not None or "www." in norm:
        return True
    if " dot " in norm and _DOT_WORD.search(norm) is not None:
        return True
    return _LINK_HINT_DOTS.search(norm) is not None


def _domain_of(raw: str) -> str:
    dom = raw.replace("[.]", ".").replace("(.)", ".").replace("(dot)", ".").replace("[dot]", ".")
    dom = dom.replace(" dot ", ".")
    return dom.strip(".")


def _domain_matches(domain: str, suffixes: tuple[str, ...]) -> bool:
    return any(domain == s or domain.endswith("." + s) for s in suffixes)


def detect_link(ctx: Context) -> list[Finding]:
    if not _link_hint(ctx.norm):
        return []
    out = []
    lists = ctx.lists
    for m in _LINK.finditer(ctx.norm):
        domain = _domain_of(m.group(1))
        if domain.count(".") == 0:
            continue
        if _domain_matches(domain, lists.allow_domains) or _domain_matches(
            domain, lists.platform_domains
        ):
            kind = "allowed"
        elif _domain_matches(domain, lists.deny_domains) or any(
            w in domain for w in lists.deny_domain_words
        ):
            kind = "denied"
        elif _domain_matches(domain, lists.shorteners):
            kind = "shortener"
        elif _DEFANGED.search(m.group()):
            kind = "defanged"
        else:
            kind = "unknown"
        out.append(Finding(kind, m.start(), m.end()))
    return out


def has_digit(text: str) -> bool:
    """Any ASCII digit: ten substring searches, faster than a character-class regex."""
    return (
        "0" in text or "1" in text or "2" in text or "3" in text or "4" in text
        or "5" in text or "6" in text or "7" in text or "8" in text or "9" in text
    )


def _digit_group(norm: str) -> bool:
    return has_digit(norm) and _DIGIT_GROUP.search(norm) is not None


# Necessary conditions (each detector's own first check, as a plain function of the folded
# text): the engine calls these before building a detector context, so a comment whose only
# "hint" is an @mention costs a couple of C-level searches, not five detector calls.
PREFILTERS = {
    "nhs_number": _digit_group,
    "phone": _digit_group,
    "email": lambda norm: "@" in norm and _EMAIL_HINT.search(norm) is not None,
    "postcode": lambda norm: has_digit(norm) and _POSTCODE_HINT.search(norm) is not None,
    "link": _link_hint,
    "street_address": has_digit,
    "date_of_birth": has_digit,
    "patient_condition": lambda norm: _CONDITION.search(norm) is not None
    and (_NAME_CONTEXT.search(norm) is not None or _PLACED.search(norm) is not None),
    "named_person_at_service": lambda norm: (" the " in norm or " at " in norm)
    and _SERVICE_HINT.search(norm) is not None,
}


DETECTORS = {
    "nhs_number": detect_nhs_number,
    "phone": detect_phone,
    "email": detect_email,
    "postcode": detect_postcode,
    "street_address": detect_street_address,
    "date_of_birth": detect_date_of_birth,
    "patient_condition": detect_patient_condition,
    "link": detect_link,
    "named_person_at_service": detect_named_person_at_service,
}
DETECTOR_KINDS = {
    "nhs_number": ("nhs_number",),
    "phone": ("phone",),
    "email": ("email",),
    "postcode": ("postcode",),
    "street_address": ("street_address",),
    "date_of_birth": ("date_of_birth",),
    "patient_condition": ("patient_condition",),
    "link": ("allowed", "denied", "shortener", "defanged", "unknown"),
    "named_person_at_service": ("named_person_at_service",),
}
