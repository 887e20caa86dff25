"""Every reply in every language: catalogs complete, placeholders and markup intact, in step with the code."""

from __future__ import annotations

import gettext
import io
import re

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.replies import texts
from bot.replies.i18n import DOMAIN, LANGUAGES, LOCALE, translations
from devkit.fake_telegram import FakeTelegram
from devkit.local import ROOT
from devkit.offline import handle, offline_bot

TRANSLATED = [language for language in LANGUAGES if language != "en"]
PLACEHOLDER = re.compile(r"\{\w+\}")
MARKUP = re.compile(r"</?\w+>|/\w+")  # HTML tags and /commands must survive translation


def catalog(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle_:
        return read_po(handle_, locale=language)


def marks(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text) + MARKUP.findall(text))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders_and_markup(language):
    found = catalog(language)
    messages = [m for m in found if m.id]
    assert messages
    for message in messages:
        assert not message.fuzzy, message.id
        sources = [str(part) for part in (message.id if isinstance(message.id, tuple) else (message.id,))]
        strings = [str(part) for part in (message.string if isinstance(message.string, tuple) else (message.string,))]
        assert all(strings) and len(strings) == (found.num_plurals if isinstance(message.id, tuple) else 1), message.id
        for string in strings:
            assert marks(string) == marks(sources[-1]), (language, message.id, string)


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogs_hold_exactly_the_messages_in_the_code_and_are_compiled(language):
    in_code = {
        m[2] if isinstance(m[2], str) else m[2][0]
        for m in extract_from_dir(str(ROOT / "bot"), keywords={"N_": None, "gettext": None, "ngettext": (1, 2)})
    }
    found = catalog(language)
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in found if m.id}
    assert in_catalog == in_code, "run pybabel extract/update (see bot/replies/i18n.py)"
    compiled = io.BytesIO()
    write_mo(compiled, found)
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)
    shipped = translations(language)
    for message in found:
        if message.id and isinstance(message.id, str):
            assert shipped.gettext(message.id) == fresh.gettext(message.id), "run pybabel compile (see bot/replies/i18n.py)"


def test_telegram_language_codes_pick_a_catalog_and_fall_back_to_english():
    assert translations("pt-br").gettext("Right") == "Certo"
    assert translations("es-419").gettext("Right") == "Correcto"
    assert translations("fr").gettext("Right") == "Right"
    assert translations(None).gettext("Right") == "Right"
    assert "{count}" in translations("ru").ngettext("Done: I deleted {count} photo, what I read in it and your corrections.", "x", 5)
    assert texts.forgotten(3, translations("de")).startswith("Erledigt: Ich habe 3 Fotos gelöscht")


@pytest.mark.parametrize(
    ("language", "greeting"),
    [
        ("en", "Hi! Send me"),
        ("es", "¡Hola!"),
        ("ru", "Привет!"),
        ("de", "Hallo!"),
        ("pt-br", "Olá!"),
        ("hi", "नमस्ते!"),
        ("fr", "Hi! Send me"),
    ],
)
async def test_start_in_each_language_with_commands_registered_per_language(tmp_path, language, greeting):
    fake = FakeTelegram()
    async with offline_bot(fake, tmp_path) as bot:
        fake.send_message(7001, language=language, text="/start")
        await handle(bot, fake)
    (start,) = fake.of("sendMessage")
    assert start.params["text"].startswith(greeting)
    registered = {c.params.get("language_code"): c.params["commands"] for c in fake.of("setMyCommands")}
    assert set(registered) == {None, *TRANSLATED}
    for code, commands in registered.items():
        assert [c["command"] for c in commands] == ["start", "help", "read", "forget"], "commands stay English"
        assert commands[0]["description"] == translations(code).gettext("What this bot does")
    assert registered["ru"][0]["description"] == "Что умеет этот бот"


async def test_an_answer_and_its_buttons_in_the_readers_language(tmp_path, photo_of):
    fake = FakeTelegram()
    async with offline_bot(fake, tmp_path) as bot:
        fake.send_photo(7001, photo_of(3), language="de")
        await handle(bot, fake)
    (answer,) = fake.of("sendMessage")
    assert "Ich lese: <b>3</b>" in answer.params["text"] and "Modell" in answer.params["text"]
    labels = [b["text"] for row in answer.params["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[:2] == ["✅ Richtig", "👁 Was ich sah"]
