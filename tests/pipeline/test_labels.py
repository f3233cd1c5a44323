"""Edge labels: accelerator keys, normalisation and option matching (spec §3.3, §4.6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import attractor.pipeline.labels as labels_module
from attractor.effects import Option, Question
from attractor.pipeline.labels import (
    accelerator_key,
    answer_from_text,
    describe_options,
    match_option,
    match_options,
    normalize_label,
    split_accelerator,
    strip_accelerator,
)
from tests.test_purity import _violations

OPTIONS = (
    Option(key="A", label="[A] Approve"),
    Option(key="R", label="R) Request changes"),
    Option(key="X", label="Reject outright"),
)


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("[Y] Yes, deploy", "Y"),
        ("Y) Yes, deploy", "Y"),
        ("Y - Yes, deploy", "Y"),
        ("Yes, deploy", "Y"),
        ("  [n]  no thanks ", "N"),
        ("fix) the build", "F"),
        ("A-B testing", "A"),
        ("7) seventh", "7"),
        ("", ""),
    ],
)
def test_accelerator_key_follows_the_spec_table(label: str, key: str) -> None:
    """The four patterns of spec §4.6 give their key, upper-cased; other labels their first char."""
    assert accelerator_key(label) == key


@pytest.mark.parametrize(
    ("label", "normalized"),
    [
        ("[Y] Yes, Deploy", "yes, deploy"),
        ("Y) Yes", "yes"),
        ("Y - Yes", "yes"),
        ("  Approve  ", "approve"),
        ("A-B testing", "a-b testing"),
        ("[Y]", "[y]"),
        ("[A] [B] two prefixes", "[b] two prefixes"),
    ],
)
def test_normalize_label_lowercases_trims_and_strips_one_prefix(
    label: str, normalized: str
) -> None:
    """Normalisation is lowercase, trim, strip one accelerator prefix that has text after it."""
    assert normalize_label(label) == normalized


def test_split_keeps_key_and_text_as_written() -> None:
    """`split_accelerator` returns the key as written and the trimmed text, case kept."""
    assert split_accelerator(" [y]  Yes Please ") == ("y", "Yes Please")
    assert split_accelerator("Plain") == ("", "Plain")
    assert strip_accelerator("Q - Quit now") == "Quit now"


@pytest.mark.parametrize(
    ("reply", "key"),
    [("a", "A"), ("R", "R"), ("approve", "A"), ("[A] APPROVE", "A"), ("request", "R"),
     ("Reject outright", "X"), ("reje", "X")],
)  # fmt: skip
def test_match_option_accepts_key_label_or_prefix(reply: str, key: str) -> None:
    """A reply matches by key (any case), by normalised label, or by a unique label prefix."""
    found = match_option(reply, OPTIONS)
    assert found is not None
    assert found.key == key


def test_ambiguous_prefix_matches_several() -> None:
    """A prefix shared by two labels is ambiguous: both are returned, `match_option` gives None."""
    assert [o.key for o in match_options("re", OPTIONS)] == ["R", "X"]
    assert match_option("re", OPTIONS) is None


@pytest.mark.parametrize("reply", ["", "   ", "zzz"])
def test_nothing_matches_empty_or_unknown_replies(reply: str) -> None:
    """An empty reply or one that names no option matches nothing."""
    assert match_options(reply, OPTIONS) == ()


def test_describe_options_shows_keys_once() -> None:
    """Descriptions show `[K] text` without repeating the label's own prefix."""
    assert describe_options(OPTIONS[:2]) == "[A] Approve, [R] Request changes"


def test_labels_module_is_pure() -> None:
    """labels.py imports nothing that touches the world (the engine imports it)."""
    assert _violations(Path(labels_module.__file__)) == []


_texts = st.text(min_size=1, max_size=30).filter(lambda s: bool(s.strip()))
_keys = st.characters(categories=("Lu", "Ll", "Nd"))


@given(_texts, _keys, st.sampled_from(["[{k}] {t}", "{k}) {t}", "{k} - {t}"]))
def test_any_prefix_form_gives_its_key_and_the_plain_label(text: str, key: str, form: str) -> None:
    """Every accelerator form yields its key and normalises to the unprefixed label."""
    assume(split_accelerator(text)[0] == "")
    label = form.format(k=key, t=text)
    assert accelerator_key(label) == key.upper()
    assert normalize_label(label) == normalize_label(text)


@given(st.text(max_size=40))
def test_normalize_ignores_surrounding_space_and_case(text: str) -> None:
    """Normalisation is stable under padding and is already trimmed."""
    norm = normalize_label(text)
    assert normalize_label(f"  {text}\t") == norm
    assert norm == norm.strip()


@given(st.text(max_size=40))
def test_key_is_empty_only_for_blank_labels(text: str) -> None:
    """Every non-blank label has a key."""
    assert (accelerator_key(text) == "") == (text.strip() == "")


@given(st.lists(_texts, min_size=1, max_size=6, unique_by=lambda s: normalize_label(s)))
def test_each_option_is_found_by_its_own_label(texts: list[str]) -> None:
    """With distinct labels, replying with an option's label always selects that option."""
    options = [Option(key=accelerator_key(t), label=t) for t in texts]
    for option in options:
        found = match_options(option.label, options)
        assert option in found
        keys_clash = sum(o.key.lower() == option.label.strip().lower() for o in options)
        if not keys_clash:
            assert found == (option,)


@given(st.text(max_size=20), st.sampled_from(["yes_no", "confirmation", "multiple_choice"]))
def test_a_read_reply_is_always_a_valid_answer_or_none(reply: str, kind: str) -> None:
    """Reading any reply gives yes/no, one of the option keys, or None — never anything else."""
    question = Question(id="q", text="?", kind=kind, options=OPTIONS)  # type: ignore[arg-type]
    answer = answer_from_text(question, reply)
    allowed = {"yes", "no"} if kind != "multiple_choice" else {o.key for o in OPTIONS}
    assert answer is None or answer.value in allowed


def test_options_sharing_a_key_are_answered_by_label() -> None:
    """When two options share a key, the answer names the chosen one by its label."""
    shared = (Option(key="A", label="Approve"), Option(key="A", label="Abort"))
    question = Question(id="q", text="?", kind="multiple_choice", options=shared)
    answer = answer_from_text(question, "abort")
    assert answer is not None
    assert (answer.value, answer.text) == ("Abort", "Abort")
    assert answer_from_text(question, "a") is None
