"""Try the bot without a Telegram token: the real bot answers your photos through the fake Bot API.

    python -m devkit.try_bot photo.jpg [more.jpg ...] [--language ru] [--out replies]

The whole bot runs here (the Application, the model, a database in a temporary folder) against
``devkit.fake_telegram`` on 127.0.0.1; each file is sent as a person sends a photo, and the bot's
reply is printed as the person would read it, with its buttons. A number's boxed picture, which
the bot sends as a photo, is saved in ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
from pathlib import Path

from devkit.fake_telegram import Call
from devkit.harness import sandbox

USER = 7


def readable(call: Call) -> str:
    """A reply as the person reads it: HTML tags gone, each button in brackets."""
    text = call.params.get("text") or call.params.get("caption") or ""
    plain = html.unescape(re.sub(r"<[^>]+>", "", str(text)))
    markup = call.params.get("reply_markup") or {}
    rows = [" ".join(f"[{button['text']}]" for button in row) for row in markup.get("inline_keyboard", [])]
    return "\n".join([plain, *rows])


async def converse(photos: list[bytes], language: str) -> list[Call]:
    """Send each photo in order, as the same person; returns the bot's reply to each."""
    async with sandbox() as fake:
        return [await fake.reply_to(fake.send_photo(USER, photo, language=language), timeout=60) for photo in photos]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit.try_bot", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="PHOTO", help="image files to send, in order")
    parser.add_argument("--language", default="en", help="the sender's app language: en, es, ru, de, pt, hi")
    parser.add_argument("--out", type=Path, default=Path("replies"), help="where pictures the bot sends are saved")
    args = parser.parse_args(argv)
    missing = [str(file) for file in args.files if not file.is_file()]
    if missing:
        print(f"not a file: {', '.join(missing)}", file=sys.stderr)
        return 1
    replies = asyncio.run(converse([file.read_bytes() for file in args.files], args.language))
    for index, (file, reply) in enumerate(zip(args.files, replies, strict=True)):
        print(f"--- {file}\n{readable(reply)}")
        if reply.method == "sendPhoto" and reply.files:
            args.out.mkdir(parents=True, exist_ok=True)
            picture = args.out / f"{index + 1}-{file.stem}.jpg"
            picture.write_bytes(next(iter(reply.files.values())))
            print(f"(the picture it sent: {picture})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
