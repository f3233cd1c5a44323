"""Pipeline layer (pure): edge labels — accelerator keys, normalisation, option matching, and
reading a reply as an `Answer`.

Rule: one definition of "these two labels mean the same edge" for the whole engine. Edge
selection (spec §3.3 step 2), the wait.human handler (§4.6) and every interviewer use these
functions, so a human, an answers file and an LLM's `preferred_label` are all matched alike.

An accelerator prefix is one letter or digit written as `[K] Label`, `K) Label` or `K - Label`
(spec §4.6), and it only counts when label text follows it. Without a prefix the key is the
label's first character. Keys are returned upper-cased; matching on keys ignores case.

Answers: multiple choice answers the option key in `value` (the label when two options share
a key) and its label in `text`; yes/no and
confirmation answer `"yes"` or `"no"`; freeform answers the text in both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from attractor.effects import Answer, Option, Question

_YES = frozenset({"y", "yes", "true", "1"})
_NO = frozenset({"n", "no", "false", "0"})

# One alphanumeric character (any script), then the label text; `[^\W_]` is "\w minus _".
_PREFIXES = (
    re.compile(r"\[([^\W_])\]\s*(\S.*)", re.DOTALL),
    re.compile(r"([^\W_])\)\s*(\S.*)", re.DOTALL),
    re.compile(r"([^\W_])\s+-\s+(\S.*)", re.DOTALL),
)


def split_accelerator(label: str) -> tuple[str, str]:
    """Split a label into its accelerator key and the text after the prefix.

    Args:
        label: an edge label such as `"[Y] Yes, deploy"`.

    Returns:
        `(key, text)`: the key as written (empty when the label has no prefix) and the trimmed
        label text without the prefix. `split_accelerator("Y) Yes")` is `("Y", "Yes")`;
        `split_accelerator("Yes")` is `("", "Yes")`.
    """
    stripped = label.strip()
    for pattern in _PREFIXES:
        found = pattern.fullmatch(stripped)
        if found:
            return found.group(1), found.group(2).strip()
    return "", stripped


def accelerator_key(label: str) -> str:
    """The shortcut key of a label (spec §4.6 table), upper-cased; `""` for an empty label.

    `[K] Label`, `K) Label` and `K - Label` give `K`; any other label gives its first character.
    """
    key, text = split_accelerator(label)
    return (key or text[:1]).upper()


def strip_accelerator(label: str) -> str:
    """The label text without its accelerator prefix, trimmed (case kept)."""
    return split_accelerator(label)[1]


def normalize_label(label: str) -> str:
    """Lowercase, trim and strip the accelerator prefix (spec §3.3 step 2).

    `normalize_label("  [Y] Yes, Deploy ")` is `"yes, deploy"`. Only one prefix is stripped, so
    a label's own text is never eaten by a second pattern.
    """
    return strip_accelerator(label).lower()


def match_options(text: str, options: Sequence[Option]) -> tuple[Option, ...]:
    """The options a typed reply could mean, in option order.

    Tried in turn, the first rule that matches anything wins: the option's key (any case), its
    label after normalisation (so `"Approve"`, `"[A] Approve"` and `"approve"` are equal), then
    a prefix of the normalised label. One result is a match; several mean the reply is
    ambiguous; none means it matches nothing. An empty reply matches nothing.
    """
    wanted = text.strip()
    if not wanted:
        return ()
    norm = normalize_label(wanted)
    rules = (
        lambda o: o.key.strip().lower() == wanted.lower(),
        lambda o: normalize_label(o.label) == norm,
        lambda o: bool(norm) and normalize_label(o.label).startswith(norm),
    )
    for rule in rules:
        found = tuple(o for o in options if rule(o))
        if found:
            return found
    return ()


def match_option(text: str, options: Sequence[Option]) -> Option | None:
    """The one option a reply means, or None when it matches none or several."""
    found = match_options(text, options)
    return found[0] if len(found) == 1 else None


def describe_options(options: Sequence[Option]) -> str:
    """Options as `[A] Approve, [R] Revise` for prompts and error messages."""
    return ", ".join(f"[{o.key}] {strip_accelerator(o.label) or o.label}" for o in options)


def answer_from_text(question: Question, text: str) -> Answer | None:
    """Read a typed reply as an answer to `question`; None when it is not a valid answer.

    Multiple choice accepts an option's key, its label, or a unique label prefix (any case);
    yes/no and confirmation accept y/yes/n/no (also true/false, 1/0); freeform accepts anything.
    """
    reply = text.strip()
    if question.kind == "multiple_choice" and question.options:
        found = match_options(reply, question.options)
        return choice_answer(found[0], question.options) if len(found) == 1 else None
    if question.kind in ("yes_no", "confirmation"):
        low = reply.lower()
        return Answer(value="yes") if low in _YES else Answer(value="no") if low in _NO else None
    return Answer(value=reply, text=reply)


def choice_answer(option: Option, options: Sequence[Option]) -> Answer:
    """The answer selecting `option`: its key, or its label when another option shares the key
    (`Approve` and `Abort` are both `A`), so the answer always names exactly one option."""
    shared = sum(o.key.lower() == option.key.lower() for o in options) > 1
    return Answer(value=option.label if shared else option.key, text=option.label)


def default_answer(question: Question) -> Answer | None:
    """The question's default as an answer; a default that is no option (e.g. a target node id)
    is passed through as the raw value for the handler to resolve."""
    if question.default is None:
        return None
    return answer_from_text(question, question.default) or Answer(value=question.default)


def timed_out_answer(question: Question) -> Answer:
    """What a timeout answers (spec §6.5): the default, marked `timed_out`, else an empty one."""
    default = default_answer(question)
    if default is None:
        return Answer(value="", timed_out=True)
    return msgspec.structs.replace(default, timed_out=True)


def explain_mismatch(question: Question, reply: str, *, list_options: bool = True) -> str:
    """Why `reply` is not an answer to `question`, for prompts and error messages."""
    if question.kind == "multiple_choice" and question.options:
        found = match_options(reply, question.options)
        if len(found) > 1:
            return f"{reply!r} is ambiguous: it matches {describe_options(found)}"
        choose = f"; choose one of {describe_options(question.options)}" if list_options else ""
        return f"{reply!r} is not an option{choose}"
    return f"{reply!r} is not an answer; type y or n"
