"""Teaching by example: the rule set's examples section, validated and applied."""

import copy

import pytest

from policy.engine import RuleSetError, compile_ruleset
from policy.engine.schema import EXAMPLES_MAX_PER_CATEGORY, validate
from policy.reader import ReaderSettings


def with_section(document, **sections):
    doc = copy.deepcopy(document)
    doc.update(sections)
    return doc


@pytest.mark.parametrize(
    "section, path",
    [
        ({"gossip": {"mean": ["x"]}}, "examples.gossip"),
        ({"hate": {"mean": ["  "]}}, "examples.hate.mean[0]"),
        ({"hate": {"mean": ["ok"], "not_mean": [""]}}, "examples.hate.not_mean[0]"),
        ({"hate": {}}, "examples.hate"),
        ({"hate": {"mean": "one string"}}, "examples.hate.mean"),
        ({"hate": {"mean": ["x"] * (EXAMPLES_MAX_PER_CATEGORY + 1)}}, "examples.hate"),
        ({"hate": {"mean": ["x" * 501]}}, "examples.hate.mean[0]"),
        ({"hate": {"mean": ["x"], "threshold": 0.3}}, "examples.hate.threshold"),
        ({"hate": {"mean": ["x"], "threshold": True}}, "examples.hate.threshold"),
        ({"hate": {"mean": ["x"], "means": ["y"]}}, "examples.hate.means"),
        (["not", "a", "mapping"], "examples"),
    ],
)
def test_bad_examples_are_refused_with_their_path(document, section, path):
    with pytest.raises(RuleSetError) as err:
        validate(with_section(document, examples=section))
    assert err.value.path == path


def test_too_many_examples_in_all_are_refused(document):
    section = {c: {"mean": [f"{c} {i}" for i in range(30)]} for c in ("hate", "abuse", "threat", "violence", "crisis", "media", "legal", "complaint", "profanity", "advertising", "reputation", "safeguarding", "patient_safety", "personal_info")}
    with pytest.raises(RuleSetError) as err:
        validate(with_section(document, examples=section))
    assert err.value.path == "examples" and "at most 400" in str(err.value)


@pytest.mark.parametrize(
    "section, path",
    [
        ({"auto_hide": {"complaint": 0.9}}, "reader.auto_hide.complaint"),
        ({"auto_hide": {"advertising": 0.2}}, "reader.auto_hide.advertising"),
        ({"auto_hide": {"advertising": "yes"}}, "reader.auto_hide.advertising"),
        ({"auto_delete": {}}, "reader.auto_delete"),
    ],
)
def test_bad_reader_settings_are_refused(document, section, path):
    with pytest.raises(RuleSetError) as err:
        compile_ruleset(with_section(document, reader=section))
    assert err.value.path == path


def test_the_default_rule_set_teaches_every_category_by_example(document):
    validate(document)
    settings = ReaderSettings.from_document(document)
    assert len(settings.examples) == 20
    assert all(spec["mean"] and spec["not_mean"] for spec in settings.examples.values())
    assert dict(settings.auto_hide) == {}  # the model's word alone never auto-applies by default


def test_a_close_mean_example_adds_its_category(hashing_reader):
    settings = ReaderSettings.from_document(
        {"examples": {"media": {"mean": ["I'm a journalist at the Echo, who can comment?"]}}}
    )
    (r,) = hashing_reader.read(["i'm a journalist at the echo, who can comment??"], settings=settings)
    (f,) = r.findings
    assert (f.category, f.source) == ("media", "example")
    assert f.example == "I'm a journalist at the Echo, who can comment?" and f.similarity > 0.9
    (r,) = hashing_reader.read(["the cardiology ward was spotless"], settings=settings)
    assert r.findings == ()


def test_a_close_not_mean_example_silences_the_head(hashing_reader):
    text = "subscribe to my channel"  # the advertising head fires on it
    (plain,) = hashing_reader.read([text])
    assert plain.categories == ("advertising",)
    settings = ReaderSettings.from_document(
        {"examples": {"advertising": {"not_mean": ["subscribe to my channel"], "mean": ["win a free iphone now"]}}}
    )
    (r,) = hashing_reader.read([text], settings=settings)
    assert r.categories == ()
    (s,) = r.suppressed
    assert (s.category, s.example) == ("advertising", "subscribe to my channel")


def test_a_threshold_per_category_decides_what_is_close(hashing_reader):
    text = "who can give a comment to the newspaper"
    example = "who can give a comment to our newspaper please"
    loose = ReaderSettings.from_document({"examples": {"media": {"mean": [example], "threshold": 0.5}}})
    strict = ReaderSettings.from_document({"examples": {"media": {"mean": [example], "threshold": 0.99}}})
    assert hashing_reader.read([text], settings=loose)[0].categories == ("media",)
    assert hashing_reader.read([text], settings=strict)[0].categories == ()


def test_real_model_finds_the_nearest_example_of_the_default_rule_set(reader, document):
    settings = ReaderSettings.from_document(document)
    (r,) = reader.read(["Journalist from the regional paper here, who handles press enquiries about GP access?"], settings=settings)
    media = [f for f in r.findings if f.category == "media"]
    assert media and media[0].example in document["examples"]["media"]["mean"]
