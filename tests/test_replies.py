"""What the bot says, built offline: no Application, no HTTP (the base of the test pyramid)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bot.handlers.feedback import BUTTON
from bot.replies import texts
from bot.replies.answer import Answer
from bot.replies.i18n import translations
from model.reading.predictor import NoDigit, Unreadable


def details(*digits: tuple[int, float, list[tuple[int, float]]], reason: str | None = None) -> Answer:
    """An answer as it is stored: JSON, read back."""
    items = [{"digit": d, "p": p, "top": [[d, p], *[[o, q] for o, q in others]], "box": [0, 0, 1, 1]} for d, p, others in digits]
    confidence = float(np.prod([p for _, p, _ in digits])) if digits else 0.0
    return Answer.from_json({"model": "v2", "reason": reason, "confidence": confidence, "digits": items})


def test_a_sure_answer_names_the_number_and_the_model():
    text = texts.answer(details((4, 0.99, [(9, 0.01)]), (2, 0.98, [(7, 0.01)])), low_confidence=0.8)
    assert text.startswith("I read: <b>42</b> (97% sure)") and "model v2" in text


def test_an_unsure_answer_names_the_weakest_digit_and_its_alternatives():
    text = texts.answer(details((1, 0.99, [(7, 0.01)]), (7, 0.55, [(1, 0.30), (2, 0.10)])), low_confidence=0.8)
    assert "I'm not sure: my best guess is <b>17</b> (54%)" in text
    assert "For digit 2 I also considered 1 (30%), 2 (10%)." in text


def test_no_digit_says_why_and_how_to_do_better():
    text = texts.answer(details(reason=NoDigit.BLANK), low_confidence=0.8)
    assert "can't find a digit in this photo (the page looks blank)" in text and texts.NO_DIGIT_TIPS in text


def test_every_reason_is_said_in_the_readers_language():
    """The model gives codes; the reader gets a sentence of their own language, never English inside it."""
    spanish = translations("es")
    assert set(texts.NO_DIGIT_BECAUSE) == set(NoDigit) and set(texts.UNREADABLE_BECAUSE) == set(Unreadable)
    for code in NoDigit:
        text = texts.answer(details(reason=code), low_confidence=0.8, tr=spanish)
        assert texts.NO_DIGIT_BECAUSE[code] not in text and spanish.gettext(texts.NO_DIGIT_BECAUSE[code]) in text
    for kind in Unreadable:
        assert texts.UNREADABLE_BECAUSE[kind] not in texts.unreadable(kind, spanish)
    stored_long_ago = texts.answer(details(reason="no ink: the page looks blank <b>"), low_confidence=0.8)
    assert texts.NO_DIGIT in stored_long_ago and "<b>" not in stored_long_ago.split("(")[1]


def test_a_digit_read_turned_upright_says_so_in_the_readers_language():
    lying = dataclasses.replace(details((7, 0.93, [(1, 0.04)])), turned=True)
    assert Answer.from_json(lying.to_json()) == lying, "stored and read back, still turned"
    assert "turned" not in details((7, 0.93, [(1, 0.04)])).to_json(), "an upright answer is stored as before"
    assert texts.TURNED in texts.answer(lying, low_confidence=0.8)
    assert texts.TURNED not in texts.answer(details((7, 0.93, [(1, 0.04)])), low_confidence=0.8)
    russian = translations("ru")
    text = texts.answer(lying, low_confidence=0.8, tr=russian)
    assert russian.gettext(texts.TURNED) in text and texts.TURNED not in text


@pytest.mark.parametrize(
    ("count", "expected"), [(0, ["wr:"]), (1, ["ok:", "saw:"] + [f"fb:{d}" for d in range(10)]), (3, ["ok:", "wr:", "saw:"])]
)
def test_keyboards_carry_only_ids_and_digits_that_the_handler_accepts(count, expected):
    answer = details(*[(d, 0.9, [(7, 0.05)]) for d in range(count)])
    data = [str(b.callback_data) for row in texts.keyboard(answer, 2**62).inline_keyboard for b in row]
    assert [d.split(":")[0] + ":" if not d.startswith("fb:") else f"fb:{d.rsplit(':', 1)[1]}" for d in data] == expected
    for item in data:
        assert isinstance(item, str) and len(item.encode()) <= 64 and BUTTON.fullmatch(item), item
    largest = texts.keyboard(details((3, 0.9, [])), 2**63 - 1).inline_keyboard[2][4].callback_data
    assert isinstance(largest, str) and BUTTON.fullmatch(largest) and len(largest.encode()) <= 64


def test_the_remember_question_and_not_this_time_carry_what_the_handler_accepts():
    longest = "9" * 32
    data = [str(b.callback_data) for row in texts.remember_keyboard(2**63 - 1, longest).inline_keyboard for b in row]
    assert data == [f"my:{2**63 - 1}:{longest}", f"no:{2**63 - 1}"]
    assert all(BUTTON.fullmatch(d) and len(d.encode()) <= 64 for d in data)
    recalled = from_memory(details((9, 0.91, [(4, 0.3)])), 0)
    first_row = [str(b.callback_data) for b in texts.keyboard(recalled, 5).inline_keyboard[0]]
    assert first_row == ["ok:5", "saw:5", "nt:5"] and BUTTON.fullmatch("nt:5")
    assert "nt:5" not in [str(b.callback_data) for row in texts.keyboard(details((9, 0.91, [])), 5).inline_keyboard for b in row]
    question = texts.remember_question(0.94, "5", "8")
    assert question == "🧠 I was 94% sure this is <b>5</b>. Remember it as <b>8</b> for your photos?"


def test_without_memory_the_networks_own_reading_comes_back():
    """A recalled digit keeps the network's top readings beside it: "not this time" answers with them."""
    answer = details((1, 0.99, [(7, 0.01)]), (9, 0.909, [(4, 0.3)]))
    nine = dataclasses.replace(answer.digits[1], top=((5, 0.94), (9, 0.03)))
    recalled = from_memory(dataclasses.replace(answer, digits=(answer.digits[0], nine)), 1)
    plain = recalled.without_memory()
    assert [(d.digit, d.confidence) for d in plain.digits] == [(1, 0.99), (5, 0.94)] and plain.number == "15"
    assert plain.digits[1].recalled is None and plain.confidence == pytest.approx(0.99 * 0.94)
    assert plain.recalled_ids == [] and recalled.recalled_ids == [12]
    assert Answer.from_json(recalled.to_json()) == recalled, "stored and read back, the same answer"
    assert (
        Answer.from_json(
            {"model": "v1", "confidence": 0.9, "digits": [{"digit": 4, "p": 0.9, "top": [[4, 0.9]], "box": [0, 0, 1, 1]}]}
        ).number
        == "4"
    )


def test_forged_button_data_is_not_accepted():
    forged_memory = ("my:1", "my:1:", f"my:1:{'1' * 33}", "nt:1:2", "no:x")
    for forged in ("fb:1:²", "fb:1:10", "fb:²:3", f"fb:{'9' * 20}:3", "ok:1:x", "saw:", "drop table", *forged_memory):
        assert BUTTON.fullmatch(forged) is None, forged


def test_outcomes_and_counts_read_naturally():
    assert texts.outcome("7", "7") == "✅ Thanks for confirming!"
    assert "<b>2027</b>" in texts.outcome("2027", "2026")
    assert texts.forgotten(0).startswith("I had nothing stored") and "1 photo," in texts.forgotten(1) and "3 photos" in texts.forgotten(3)


def from_memory(answer: Answer, index: int) -> Answer:
    digits = list(answer.digits)
    digits[index] = dataclasses.replace(digits[index], recalled=12)
    return dataclasses.replace(answer, digits=tuple(digits))


def test_digits_from_memory_are_named_in_the_answer():
    one = from_memory(details((9, 0.91, [(4, 0.3)])), 0)
    assert "🧠 Read as <b>9</b>, like the one you corrected." in texts.answer(one, low_confidence=0.8)
    two = from_memory(details((1, 0.99, [(7, 0.01)]), (9, 0.91, [(4, 0.3)])), 1)
    assert "🧠 Digit 2 read as in your corrections." in texts.answer(two, low_confidence=0.8)
    assert "🧠" not in texts.answer(details((9, 0.91, [(4, 0.3)])), low_confidence=0.8)
