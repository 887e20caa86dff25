"""Every text and keyboard the bot shows, built from stored data so any replica can redraw them.

Messages are English gettext msgids (marked ``N_``), translated for the reader where they
are sent; functions take the reader's ``Translations``. Admin texts stay English.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies.answer import Answer
from bot.replies.i18n import ENGLISH, N_, Translations
from model.reading.predictor import NoDigit, Unreadable

START = N_(
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
HELP = N_(
    "Send a photo (or an image file: JPEG, PNG, WebP, HEIC) of a handwritten number.\n\n"
    "/start — what I do and how to photograph a number\n"
    "/help — this message\n"
    "/read — in reply to a photo: read it (in a group, or a photo sent earlier)\n"
    "/forget — delete everything I stored about you"
)
ADMIN_COMMANDS = "Admin: /stats — usage and accuracy; /reload — load the newest model now"
COMMANDS = [
    ("start", N_("What this bot does")),
    ("help", N_("How to use it")),
    ("read", N_("Read the photo this message replies to")),
    ("forget", N_("Delete everything stored about you")),
]
NOT_A_PHOTO = N_("I read digits from photos. Send me a photo of a number written on paper.")
NOT_AN_IMAGE = N_("That file isn't an image I can read. Please send a photo, or a JPEG, PNG or WebP file.")
UNKNOWN_COMMAND = N_("I don't know that command. Try /help.")
SORRY = N_("Sorry, something went wrong on my side. Please try again in a moment.")
NOT_YOURS = N_("Only the person who asked about this photo can correct it.")
NOT_YOURS_TO_SEE = N_("Only the person who asked about this photo can see what I saw in it.")
NOT_KEPT = N_("(Not stored: you asked me to forget your data after sending this photo.)")
READ_WHAT = N_("Reply /read to a photo (or an image file) and I'll read the number in it.")
WHAT_I_SAW = N_(
    "Where I found each digit, with what I read and how sure I was (grey dashes: shapes I set aside as not a digit), "
    "and below, each digit as the network got it: 28x28 pixels."
)
GONE = N_("That answer is gone (perhaps deleted with /forget).")
ADMINS_ONLY = "This command is for the bot's admins."
DIGITS_ONLY = N_("Please reply with digits only, for example 2026.")
NO_DIGIT_TIPS = N_("Try: get closer so the number fills the photo, write with a darker pen or marker, use plain paper and even light.")
NO_DIGIT_BECAUSE: dict[str, str] = {
    NoDigit.TOO_SMALL: N_("the image is too small to hold a digit"),
    NoDigit.BLANK: N_("the page looks blank"),
    NoDigit.NOT_PAPER: N_("it does not look like writing on paper"),
    NoDigit.NO_SHAPES: N_("there is nothing digit-sized in it"),
    NoDigit.TOO_MANY: N_("there are too many shapes to be a number"),
    NoDigit.NOT_HANDWRITING: N_("the shapes look like a texture, not handwriting"),
    NoDigit.LINE_ACROSS: N_("the only mark is a line across the whole photo, like a margin or a page's edge"),
    NoDigit.NOT_A_DIGIT: N_("I see shapes, but none of them looks like a digit"),
}
"""Why there is no digit, in words, for each code the model gives; an answer stored with an older
code (or none) gets :data:`NO_DIGIT`."""
NO_DIGIT = N_("nothing that looks like a digit")
UNREADABLE_BECAUSE = {
    Unreadable.EMPTY: N_("the file is empty"),
    Unreadable.NOT_AN_IMAGE: N_("this file is not an image I can read"),
    Unreadable.TOO_LARGE: N_("the image is too large to read safely"),
    Unreadable.NO_PIXELS: N_("the image has no pixels"),
    Unreadable.DAMAGED: N_("the image file is damaged or truncated"),
}
TURNED = N_("↪️ The digit lay on its side: I read it turned upright.")
SAVED = N_("Saved")
ALREADY_SAVED = N_("Already saved")
REMEMBERED = N_("🧠 Remembered: shapes like this in your photos are read as <b>{label}</b>. Only your answers change.")
NOT_REMEMBERED = N_("Not remembered. Your correction is still saved.")
OUT_OF_DATE = N_("That question is out of date: the correction changed since.")
DROPPED = N_("🧠 I won't use that correction for shapes like this again. Without it I read this.")


def reloaded(old: str, new: str | None) -> str:
    return f"Model reloaded: {old} → {new}." if new else f"Already on the newest model ({old})."


def too_big(limit: int, tr: Translations = ENGLISH) -> str:
    return tr.gettext("That image is too large for me (the limit is {megabytes} MB). Please send a smaller photo.").format(
        megabytes=limit // (1024 * 1024)
    )


def slow_down(limit: int, tr: Translations = ENGLISH) -> str:
    message = tr.gettext(
        "You're sending photos faster than I can look at them (up to {limit} a minute). Please wait a moment and try again."
    )
    return message.format(limit=limit)


def unreadable(kind: Unreadable, tr: Translations = ENGLISH) -> str:
    reason = tr.gettext(UNREADABLE_BECAUSE[kind])
    return tr.gettext("I couldn't open that image: {reason}. Please send a photo, or a JPEG, PNG or WebP file.").format(reason=reason)


def forgotten(count: int, tr: Translations = ENGLISH) -> str:
    if count == 0:
        return tr.gettext("I had nothing stored about you. Nothing to delete.")
    return tr.ngettext(
        "Done: I deleted {count} photo, what I read in it and your corrections.",
        "Done: I deleted {count} photos, what I read in them and your corrections.",
        count,
    ).format(count=count)


def answer(given: Answer, low_confidence: float, tr: Translations = ENGLISH) -> str:
    model = tr.gettext("model {version}").format(version=html.escape(given.model))
    turned = "\n" + tr.gettext(TURNED) if given.turned else ""
    return _answer(given, low_confidence, tr) + turned + _recalled(given, tr) + f"\n<i>{model}</i>"


def _recalled(given: Answer, tr: Translations) -> str:
    """Say plainly which digits came from the person's own corrections, not from the network."""
    which = [i for i, d in enumerate(given.digits) if d.recalled is not None]
    if not which:
        return ""
    if len(given.digits) == 1:
        return "\n🧠 " + tr.gettext("Read as <b>{digit}</b>, like the one you corrected.").format(digit=given.digits[0].digit)
    positions = ", ".join(str(i + 1) for i in which)
    return "\n🧠 " + tr.gettext("Digit {positions} read as in your corrections.").format(positions=positions)


def _answer(given: Answer, low_confidence: float, tr: Translations) -> str:
    digits = given.digits
    if not digits:
        because = NO_DIGIT_BECAUSE.get(str(given.reason), NO_DIGIT)  # codes are strings: a stored one finds its words
        found = tr.gettext("I can't find a digit in this photo ({reason}).").format(reason=html.escape(tr.gettext(because)))
        return f"🤔 {found}\n{tr.gettext(NO_DIGIT_TIPS)}"
    percent = f"{given.confidence:.0%}"
    if given.confidence >= low_confidence:
        return tr.gettext("I read: <b>{number}</b> ({percent} sure)").format(number=given.number, percent=percent)
    least = min(range(len(digits)), key=lambda i: digits[i].confidence)
    others = ", ".join(f"{d} ({p:.0%})" for d, p in digits[least].top[1:])
    guess = tr.gettext("I'm not sure: my best guess is <b>{number}</b> ({percent}).").format(number=given.number, percent=percent)
    if len(digits) == 1:
        return guess + "\n" + tr.gettext("I also considered {others}.").format(others=others)
    return guess + "\n" + tr.gettext("For digit {position} I also considered {others}.").format(position=least + 1, others=others)


def remember_question(confidence: float, predicted: str, label: str, tr: Translations = ENGLISH) -> str:
    """Asked before a correction of a sure answer is remembered: a slip of the finger should not
    teach the person's memory, and asking is cheaper than ignoring them."""
    return "🧠 " + tr.gettext("I was {percent} sure this is <b>{predicted}</b>. Remember it as <b>{label}</b> for your photos?").format(
        percent=f"{confidence:.0%}", predicted=html.escape(predicted), label=html.escape(label)
    )


def remember_keyboard(prediction_id: int, label: str, tr: Translations = ENGLISH) -> InlineKeyboardMarkup:
    """``my:<id>:<label>`` (at most 3 + 19 + 1 + 32 = 55 bytes) and ``no:<id>``: the label asked about travels with Yes."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("✅ " + tr.gettext("Yes, remember"), callback_data=f"my:{prediction_id}:{label}"),
                InlineKeyboardButton("✖️ " + tr.gettext("No"), callback_data=f"no:{prediction_id}"),
            ]
        ]
    )


def outcome(label: str, predicted: str, tr: Translations = ENGLISH) -> str:
    if label == predicted:
        return "✅ " + tr.gettext("Thanks for confirming!")
    return "✏️ " + tr.gettext("Thanks! Saved the right answer: <b>{label}</b>. You can still change it.").format(label=label)


def keyboard(given: Answer, prediction_id: int, tr: Translations = ENGLISH) -> InlineKeyboardMarkup:
    """Buttons carry only database ids and digits (``fb:<id>:<digit>``), well under 64 bytes. An
    answer from the person's memory offers "not this time" (``nt:<id>``)."""
    digit_count = len(given.digits)
    if digit_count == 0:
        return InlineKeyboardMarkup([[InlineKeyboardButton("✏️ " + tr.gettext("There is a number"), callback_data=f"wr:{prediction_id}")]])
    first = [InlineKeyboardButton("✅ " + tr.gettext("Right"), callback_data=f"ok:{prediction_id}")]
    if digit_count > 1:
        first.append(InlineKeyboardButton("✏️ " + tr.gettext("Wrong"), callback_data=f"wr:{prediction_id}"))
    first.append(InlineKeyboardButton("👁 " + tr.gettext("What I saw"), callback_data=f"saw:{prediction_id}"))
    if given.recalled_ids:
        first.append(InlineKeyboardButton("🧠 " + tr.gettext("Not this time"), callback_data=f"nt:{prediction_id}"))
    if digit_count > 1:
        return InlineKeyboardMarkup([first])
    keypad = [[InlineKeyboardButton(str(d), callback_data=f"fb:{prediction_id}:{d}") for d in row] for row in (range(5), range(5, 10))]
    return InlineKeyboardMarkup([first, *keypad])


def ask_for_number(prediction_id: int, tr: Translations = ENGLISH) -> str:
    return tr.gettext("What number is in photo #{id}? Reply to this message with digits only.").format(id=prediction_id)
