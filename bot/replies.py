"""Every text and keyboard the bot shows, built from stored data so any replica can redraw them."""

from __future__ import annotations

import html
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from model.predictor import Reading

START = (
    "Hi! Send me a <b>photo of a handwritten number</b> and I'll tell you what it says and how sure I am.\n\n"
    "<b>For a good read</b>\n"
    "• write with a dark pen or marker on plain paper;\n"
    "• get close, so the number fills most of the photo, in even light;\n"
    "• several digits are fine: I read them left to right.\n\n"
    "If I get it wrong, tap the right digit under my answer (or reply with the right number): "
    "that is how I learn.\n\n"
    "<b>In a group</b>: reply /read to a photo, or mention me in its caption; I read only what I am asked to.\n\n"
    "<b>Privacy</b>: I keep the photos you send, what I read and your corrections, to improve the "
    "model. /forget deletes all of it at once."
)
HELP = (
    "Send a photo (or an image file: JPEG, PNG, WebP) of a handwritten number.\n\n"
    "/start — what I do and how to photograph a number\n"
    "/help — this message\n"
    "/read — in reply to a photo: read it (in a group, or a photo sent earlier)\n"
    "/forget — delete everything I stored about you"
)
ADMIN_COMMANDS = "Admin: /stats — usage and accuracy; /reload — load the newest model now"
COMMANDS = [
    ("start", "What this bot does"),
    ("help", "How to use it"),
    ("read", "Read the photo this message replies to"),
    ("forget", "Delete everything stored about you"),
]
NOT_A_PHOTO = "I read digits from photos. Send me a photo of a number written on paper."
NOT_AN_IMAGE = "That file isn't an image I can read. Please send a photo, or a JPEG, PNG or WebP file."
UNKNOWN_COMMAND = "I don't know that command. Try /help."
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."
NOT_YOURS = "Only the person who sent the photo can correct it."
NOT_YOURS_TO_SEE = "Only the person who sent the photo can see what I saw in it."
NOT_KEPT = "(Not stored: you asked me to forget your data after sending this photo.)"
READ_WHAT = "Reply /read to a photo (or an image file) and I'll read the number in it."
WHAT_I_SAW = (
    "Where I found each digit, with what I read and how sure I was (grey dashes: shapes I set aside as not a digit), "
    "and below, each digit as the network got it: 28x28 pixels."
)
GONE = "That answer is gone (perhaps deleted with /forget)."
ADMINS_ONLY = "This command is for the bot's admins."
DIGITS_ONLY = "Please reply with digits only, for example 2026."
NO_DIGIT_TIPS = "Try: get closer so the number fills the photo, write with a darker pen or marker, use plain paper and even light."


def reloaded(old: str, new: str | None) -> str:
    return f"Model reloaded: {old} → {new}." if new else f"Already on the newest model ({old})."


def too_big(limit: int) -> str:
    return f"That image is too large for me (the limit is {limit // (1024 * 1024)} MB). Please send a smaller photo."


def slow_down(limit: int) -> str:
    return f"You're sending photos faster than I can look at them (up to {limit} a minute). Please wait a moment and try again."


def unreadable(reason: str) -> str:
    return f"I couldn't open that image: {reason}. Please send a photo, or a JPEG, PNG or WebP file."


def forgotten(count: int) -> str:
    if count == 0:
        return "I had nothing stored about you. Nothing to delete."
    return f"Done: I deleted {count} photo{'s' if count != 1 else ''}, what I read in them and your corrections."


def summarize(reading: Reading) -> dict[str, Any]:
    """What an answer shows, as JSON stored with the prediction, so it can be redrawn later."""
    return {
        "model": reading.model_version,
        "reason": reading.reason,
        "confidence": reading.confidence,
        "set_aside": [list(box) for box in reading.set_aside],
        "digits": [
            {"digit": item.digit, "p": item.confidence, "top": [[c.digit, c.p] for c in item.top], "box": list(item.box)}
            | ({"recalled": item.recalled.memory_id} if item.recalled is not None else {})
            for item in reading.items
        ],
    }


def answer(details: dict[str, Any], low_confidence: float) -> str:
    return _answer(details, low_confidence) + _recalled(details) + f"\n<i>model {html.escape(str(details.get('model', '?')))}</i>"


def _recalled(details: dict[str, Any]) -> str:
    """Say plainly which digits came from the person's own corrections, not from the network."""
    digits = details["digits"]
    which = [i for i, d in enumerate(digits) if "recalled" in d]
    if not which:
        return ""
    if len(digits) == 1:
        return f"\n🧠 Read as <b>{digits[0]['digit']}</b>, like the one you corrected."
    named = ", ".join(f"the {ordinal(i + 1)} as <b>{digits[i]['digit']}</b>" for i in which)
    return f"\n🧠 Read {named}, like the ones you corrected."


def _answer(details: dict[str, Any], low_confidence: float) -> str:
    digits = details["digits"]
    if not digits:
        reason = details.get("reason") or "nothing that looks like a digit"
        return f"🤔 I can't find a digit in this photo ({html.escape(reason)}).\n{NO_DIGIT_TIPS}"
    number = "".join(str(d["digit"]) for d in digits)
    confidence = float(details["confidence"])
    if confidence >= low_confidence:
        return f"I read: <b>{number}</b> ({confidence:.0%} sure)"
    least = min(range(len(digits)), key=lambda i: digits[i]["p"])
    others = ", ".join(f"{d} ({p:.0%})" for d, p in digits[least]["top"][1:])
    where = f"the {ordinal(least + 1)} digit" if len(digits) > 1 else "it"
    return f"I'm not sure: my best guess is <b>{number}</b> ({confidence:.0%}).\nFor {where} I also considered {others}."


def ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def outcome(label: str, predicted: str) -> str:
    if label == predicted:
        return "✅ Thanks for confirming!"
    return f"✏️ Thanks! Saved the right answer: <b>{label}</b>. You can still change it."


def keyboard(prediction_id: int, digit_count: int) -> InlineKeyboardMarkup:
    """Buttons carry only database ids and digits (``fb:<id>:<digit>``), well under 64 bytes."""
    if digit_count == 0:
        return InlineKeyboardMarkup([[InlineKeyboardButton("✏️ There is a number", callback_data=f"wr:{prediction_id}")]])
    first = [InlineKeyboardButton("✅ Right", callback_data=f"ok:{prediction_id}")]
    if digit_count > 1:
        first.append(InlineKeyboardButton("✏️ Wrong", callback_data=f"wr:{prediction_id}"))
    first.append(InlineKeyboardButton("👁 What I saw", callback_data=f"saw:{prediction_id}"))
    if digit_count > 1:
        return InlineKeyboardMarkup([first])
    keypad = [[InlineKeyboardButton(str(d), callback_data=f"fb:{prediction_id}:{d}") for d in row] for row in (range(5), range(5, 10))]
    return InlineKeyboardMarkup([first, *keypad])


def ask_for_number(prediction_id: int) -> str:
    return f"What number is in photo #{prediction_id}? Reply to this message with digits only."
