"""``python -m bot``: read the settings, then poll (default) or serve the webhook until SIGINT/SIGTERM."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from bot import logs
from bot.app import ALLOWED_UPDATES, build
from bot.config import Settings


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as err:
        names = ", ".join(str(e["loc"][0]).upper() for e in err.errors() if e.get("loc"))
        missing = [e for e in err.errors() if e["type"] == "missing"]
        if missing:
            sys.exit(f"error: {names} is not set (export it or put it in .env; get a token from @BotFather)")
        sys.exit(f"error: invalid setting {names}: {err.errors()[0]['msg']}")


def main() -> None:
    settings = load_settings()
    logs.setup(settings.bot_token.get_secret_value(), settings.log_format, settings.log_level)
    application = build(settings)
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


if __name__ == "__main__":
    main()
