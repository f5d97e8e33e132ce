"""Each detector with its hard negatives. Sentences here are written for the tests, not
taken from the evaluation sets."""

from datetime import datetime, timezone

import pytest

from policy.engine import AuthorHistory
from policy.engine.detectors import nhs_number_valid
from policy.engine.normalize import normalize

WEEKDAY = datetime(2026, 3, 4, 11, 0, tzinfo=timezone.utc)  # Wednesday 11:00
NIGHT = datetime(2026, 3, 4, 23, 30, tzinfo=timezone.utc)


def cats(matcher, text, **kw):
    return set(matcher.evaluate(text, **kw).categories)


def flagged(matcher, text, **kw):
    return matcher.evaluate(text, **kw).action != "allow"


# -- normalisation --------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, folded",
    [
        ("ＨＥＬＬＯ", "hello"),
        ("ᴄᴜɴᴛꜱ", "cunts"),
        ("рrick", "prick"),  # Cyrillic р
        ("f\u200bu\u200dck", "fuck"),
        ("F U C K off", "fuck off"),
        ("f.u.c.k", "fuck"),
        ("naïve café", "naive cafe"),
        ("𝐟𝐮𝐜𝐤", "fuck"),
        ("it\u2019s", "it's"),
    ],
)
def test_normalize_folds(text, folded):
    assert normalize(text).text == folded


def test_normalize_maps_offsets_back():
    text = "x f\u200bu\u200bc\u200bk y"
    n = normalize(text)
    assert n.text == "x fuck y"
    start, end = n.span(2, 6)
    assert text[start:end] == "f\u200bu\u200bc\u200bk"


# -- term matching survives obfuscation ------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "what a load of sh1t",
        "what a load of sh!t",
        "f*ck this place",
        "total c*nts",
        "FUUUUUCK this",
        "fuuck this",
        "ｆｕｃｋ the lot",
        "a bunch of ᴄᴜɴᴛꜱ",
        "F U C K the board",
        "f\u200buck off",
        "absolute pr1cks",
        "$hit service",
        "they're all wankers",
        "bullsh*t",
        "сunt",  # Cyrillic с
    ],
)
def test_obfuscated_profanity_is_caught(matcher, text):
    assert "profanity" in cats(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "Travelling from Scunthorpe to Penistone via Cockermouth today",
        "Essex and Sussex have new hubs",
        "The cocktail menu at the fundraiser was great",
        "Reading Dickens in the waiting room",
        "Shitterton is a real village in Dorset",
        "Our class assessment is on Tuesday",
        "The Arsenal match was on in the day room",
        "Hancock announced the funding",
        "Turn off the tap, it's 44% humidity",
        "Analysis of the scrap yard site",
        "I'll have a cocktail at the Titchfield fete",
    ],
)
def test_innocent_words_are_not_profanity(matcher, text):
    assert not flagged(matcher, text)


# -- violence, idioms and threats ---------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Kill the virus with soap and water",
        "This heat is killing me",
        "My feet are killing me after that shift",
        "Lovely photo shoot at the new unit",
        "We'll shoot a video about the vaccine bus",
        "The team absolutely smashed it this year",
        "Beat the queues and book online",
    ],
)
def test_violent_idioms_are_fine(matcher, text):
    assert not flagged(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "I'll stab whoever answers the phone next",
        "I know where she lives",
        "I'm going to smash every window in that office",
        "You've been warned, watch your back",
        "I will burn the surgery down",
    ],
)
def test_threats_are_caught_and_escalated(matcher, text):
    v = matcher.evaluate(text, received_at=WEEKDAY)
    assert "threat" in v.categories and v.action == "hide"
    assert v.escalation == "urgent"
    assert matcher.evaluate(text, received_at=NIGHT).escalation == "duty_manager"


# -- personal information -----------------------------------------------------------------
def test_nhs_number_modulus_11():
    assert nhs_number_valid("9434765919")
    assert not nhs_number_valid("9434765918")
    assert not nhs_number_valid("123")


def test_nhs_number_needs_valid_check_digit(matcher):
    assert "personal_info" in cats(matcher, "her number is 943 476 5919 please check")
    assert "personal_info" not in cats(matcher, "reference 943 476 5918 on the letter")


@pytest.mark.parametrize(
    "text",
    [
        "ring me on 07911 123456 about my referral",
        "email me at jo.bloggs77@example.co.uk",
        "she lives at 22 Mill Lane LN1 3AB",
        "his dob is 04/07/1961",
        "call me on +44 7911 123456",
        "my US number is +1 202 555 0143",
    ],
)
def test_personal_information_is_caught(matcher, text):
    assert "personal_info" in cats(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "Safeguarding team: 01522 309317 or 01522 309313",
        "The access line is 0303 123 4000",
        "Adults can call 0800 001 4331, young people 0800 234 6342",
        "Write to LICB.safeguarding1@nhs.net",
        "Over 300 people came to the 2024 open day",
    ],
)
def test_organisation_contacts_are_not_personal_info(matcher, text):
    assert "personal_info" not in cats(matcher, text)
    assert not flagged(matcher, text)


def test_named_patient_with_condition(matcher):
    assert "personal_info" in cats(
        matcher, "My neighbour John Fraser was admitted with a stroke, how is he?"
    )
    assert "personal_info" not in cats(matcher, "My neighbour was admitted with a stroke last year")


# -- links ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, category",
    [
        ("best clips at www.hot-xxx-videos.net", "inappropriate_link"),
        ("see bit.ly/3abcd for the truth", "inappropriate_link"),
        ("go to hxxp://cheap-meds.example now", "inappropriate_link"),
        ("visit freestuff dot com", "inappropriate_link"),
        ("great offers on www.shoes-deals.shop", "advertising"),
    ],
)
def test_bad_links(matcher, text, category):
    assert category in cats(matcher, text)


def test_allowed_links(matcher):
    for text in ("Info here: https://www.nhs.uk/conditions/flu/", "Guidance at gov.uk/coronavirus"):
        assert not flagged(matcher, text), text


# -- advertising and spam ---------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "check out my channel for daily vlogs",
        "please subscribe to my page",
        "Earn $300 a day from home, DM me",
        "Use code SAVE10 for 10% off",
        "Follow @best_lashes for deals",
    ],
)
def test_promotion_is_advertising(matcher, text):
    assert "advertising" in cats(matcher, text)


def test_contact_me_is_advertising_only_when_selling(matcher):
    assert "advertising" in cats(matcher, "Cheap lashes and nails this week, message me to book")
    assert not flagged(matcher, "Can someone message me please, I need help with my referral")
    assert not flagged(matcher, "Call us on 01522 309317 if you're worried about a child")


def test_repeated_identical_posts(matcher):
    history = AuthorHistory(recent_texts=("Join now!!", "join now!!"))
    assert "advertising" in cats(matcher, "JOIN NOW!!", author=history)
    assert "advertising" not in cats(matcher, "Thanks for the update", author=history)


# -- staff targeting ------------------------------------------------------------------------
def test_staff_targeting_needs_abuse(matcher):
    assert {"staff_targeting", "abuse"} <= cats(matcher, "Dr Patel is a useless idiot")
    assert "staff_targeting" not in cats(matcher, "Dr Patel was brilliant with my mum")


def test_staff_names_from_the_rule_set(matcher):
    from policy.engine import compile_ruleset, load_default_document

    doc = load_default_document()
    doc["staff"]["names"] = ["Priya Raman"]
    doc["staff"]["handles"] = ["@PriyaR_Comms"]
    m = compile_ruleset(doc)
    assert "staff_targeting" in cats(m, "priya raman is a liar and a disgrace")
    assert "staff_targeting" in cats(m, "@PriyaR_Comms you absolute moron")
    assert "staff_targeting" not in cats(m, "Thanks Priya Raman for the help")


# -- concerns that are not removals --------------------------------------------------------
@pytest.mark.parametrize(
    "text, category, signpost",
    [
        ("I want to make a formal complaint about A&E", "complaint", "complaints"),
        ("Is it safe to take paracetamol while pregnant?", "clinical_question", "clinical"),
        ("Why has my mum's scan been cancelled again?", "individual_care", "individual_care"),
        ("We have instructed a solicitor about my father's care", "legal", "legal"),
        ("I'm a reporter at the Gazette, could your press office comment?", "media", "media"),
        (
            "Radio Lincs news here, can someone give us a statement on the closure?",
            "media",
            "media",
        ),
        ("Do I need to fast before a blood test?", "clinical_question", "clinical"),
    ],
)
def test_concerns_signpost_without_removal(matcher, text, category, signpost):
    v = matcher.evaluate(text, received_at=WEEKDAY)
    assert category in v.categories
    assert v.signpost == signpost
    assert v.action == "allow"
    assert v.reply_template


def test_crisis_goes_to_duty_manager_out_of_hours(matcher):
    v = matcher.evaluate("nobody would miss me if I took all my pills at once", received_at=NIGHT)
    assert "crisis" in v.categories and v.signpost == "crisis" and v.escalation == "duty_manager"
    assert v.auto_apply is False


def test_safeguarding(matcher):
    v = matcher.evaluate(
        "a man keeps messaging my 12 year old asking for photos", received_at=WEEKDAY
    )
    assert v.escalation == "safeguarding"


def test_patient_safety_and_reputation_escalate(matcher):
    assert (
        matcher.evaluate(
            "Only one nurse for 30 patients on the ward tonight", received_at=NIGHT
        ).escalation
        == "duty_manager"
    )
    assert (
        matcher.evaluate(
            "Video of a patient being dragged is going viral", received_at=WEEKDAY
        ).escalation
        == "urgent"
    )


# -- hate, negation and counter-speech -----------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Immigrants are vermin",
        "Muslims should be deported",
        "I hate gay people",
        "Disabled people are a drain on everyone",
        "Trans people are mentally ill freaks",
        "All women belong in the kitchen",
        "Kill all the immigrants",
        "immigr4nts are sc*m",
        "Why are gay people so disgusting?",
        "Muslims are nothing but terrorists",
        "Death to all immigrants",
        "Send all the refugees back",
        "Women are disgusting",
        "Muslims don't deserve to live",
        "Never trust a single one of those immigrants",
    ],
)
def test_hate_is_caught(matcher, text):
    assert "hate" in cats(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "I don't hate gay people",
        "Muslims are welcome here",
        "I am a disabled woman and proud",
        "Saying immigrants are vermin is disgusting and wrong",
        "Someone called me a paki in the car park and it was horrible",
        "Trans people deserve good healthcare",
        "We need more women in surgery",
        "The clinic for disabled people opens Monday",
        "I'm going outside for a fag",
        "Women wait months for a scan here, useless service",
        "Elderly patients left on dirty trolleys, it's the worst hospital",
        "Muslims who are sick of waiting should complain too",
        "Not all immigrants are criminals, most work in the NHS",
        "No disabled people deserve to be treated badly",
        "If you say gay people are scum you're a bigot",
        "It's wrong to call Muslims animals",
    ],
)
def test_not_hate(matcher, text):
    assert "hate" not in cats(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "The waiting times are a disgrace and the board should resign",
        "Worst service I've ever had, a total shambles",
        "I disagree with this policy completely",
        "Your comms team clearly doesn't understand rural areas",
    ],
)
def test_negative_opinion_alone_is_never_removed(matcher, text):
    assert not flagged(matcher, text)


# -- limits ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "a" * 100_000,
        "f" + "*" * 100_000,
        "\x00" * 50_000,
        "hello \ud800 world \udfff",
        "😀" * 50_000,
        "".join(chr(c) for c in range(0x300, 0x3000)) * 3,
    ],
)
def test_pathological_inputs_complete_and_are_marked(matcher, text):
    v = matcher.evaluate(text)
    assert v.truncated == (len(text) > matcher.max_scan_chars)
    v.as_dict()


def test_text_beyond_the_scan_limit_is_not_read(matcher):
    text = "fine " * (matcher.max_scan_chars // 5) + " shit"
    v = matcher.evaluate(text)
    assert v.truncated and v.action == "allow"


def test_named_person_at_a_service_is_staff_targeting_only_with_abuse(matcher):
    text = "Sandra from the Boston surgery lives at 3 Mill Lane LN1 3AB, go and tell her"
    assert {"staff_targeting", "personal_info"} <= cats(matcher, text)
    assert "staff_targeting" not in cats(matcher, "Sandra from the Boston surgery was so kind")
    # a role followed by an ordinary word is not a name
    assert "staff_targeting" not in cats(matcher, "i'll stab the next receptionist who answers")


def test_a_threat_to_hurt_someone_is_also_violence(matcher):
    assert {"threat", "violence"} <= cats(
        matcher, "I'll stab the next person who says that", received_at=WEEKDAY
    )
    assert "violence" not in cats(
        matcher, "I'll smash every window in that building", received_at=WEEKDAY
    )


@pytest.mark.parametrize(
    "text, category, escalation",
    [
        (
            "My dad has been waiting 9 hours for an ambulance on the bathroom floor",
            "patient_safety",
            "urgent",
        ),
        ("People are lying in corridors on the ward, it's not safe", "patient_safety", "urgent"),
        ("I'm going to kill myself", "crisis", "urgent"),
    ],
)
def test_urgent_concerns(matcher, text, category, escalation):
    v = matcher.evaluate(text, received_at=WEEKDAY)
    assert category in v.categories and v.escalation == escalation
    assert "threat" not in v.categories and "advertising" not in v.categories


def test_more_phrasings(matcher):
    assert matcher.evaluate("Is it normal to ache after the booster?").signpost == "clinical"
    assert matcher.evaluate("My son has a fever, should I go to A&E?").signpost == "clinical"
    assert matcher.evaluate("I'm a freelance journalist, who can I speak to?").signpost == "media"
    assert "illegal_activity" in cats(matcher, "Selling my spare co-codamol, DM me")
    assert "hate" in cats(matcher, "Those immigrant nurses should go back to their own country")
