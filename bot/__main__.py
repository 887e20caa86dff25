"""``python -m bot``: read the settings, then poll (default) or serve the webhook until SIGINT/SIGTERM."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from bot import logs
from bot.app import ALLOWED_UPDATES, build, webhook_options
from bot.config import Settings


def load_settings() -> Settings:
    """Settings, or one line naming what is wrong (never the values: one may be the token)."""
    try:
        return Settings()
    except ValidationError as err:
        first = err.errors()[0]
        name = "_".join(str(part) for part in first["loc"]).upper() or "settings"
        if first["type"] == "missing" or "is not set" in first["msg"]:
            sys.exit(f"error: {name} is not set (export it or put it in .env; a bot token comes from @BotFather)")
        sys.exit(f"error: {name}: {first['msg']}")


def main() -> None:
    settings = load_settings()
    logs.setup(settings.bot_token.get_secret_value(), settings.log_format, settings.log_level)
    application = build(settings)
    if settings.mode == "webhook":
        application.run_webhook(**webhook_options(settings))
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)


if __name__ == "__main__":
    main()
