"""All settings, in one pydantic-settings class: environment variables or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.storage.engine import DEADLINE
from model.reading import registry


def database_url(url: str, data_dir: Path) -> str:
    """The async SQLAlchemy URL: a SQLite file under DATA_DIR by default, PostgreSQL in any common form."""
    url = url or f"sqlite:///{data_dir / 'digitbot.sqlite3'}"
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


class DatabaseSettings(BaseSettings):
    """What reaching the database takes, and nothing more: migrations and scripts need no bot token."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = Field(default="", description="SQLAlchemy URL; default: SQLite under DATA_DIR")
    database_timeout: float = Field(
        default=DEADLINE, gt=0, description="Seconds any database call may take before the user hears 'try again'"
    )

    @property
    def database(self) -> str:
        return database_url(self.database_url, self.data_dir)


class Settings(DatabaseSettings):
    """Every setting of the bot, from the environment or ``.env``."""

    bot_token: SecretStr = Field(description="Token from @BotFather; never logged")
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str = "https://api.telegram.org/file/bot"

    model_path: Path = registry.SHIPPED
    shipped_models: Path = registry.SHIPPED
    """The versions this release ships; each start copies those the registry at MODEL_PATH lacks."""
    follow_shipped: bool = False
    """Move the registry's current version to this release's at start (an upgrade); off: a promoted
    retrained version stays current, and the log says which shipped version is available."""

    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    max_image_bytes: int = 20 * 1024 * 1024
    rate_limit_per_minute: int = 20
    inference_workers: int = 2
    answers_in_flight: int = Field(default=2, ge=1)
    """Answers between their send and the commit of their message id, at most, in all chats: what a
    crash can make the bot send twice after its restart (``bot.delivery.sending``)."""
    low_confidence: float = 0.8
    model_check_seconds: float = 60.0
    replica_silence_seconds: float = Field(default=15.0, gt=0)
    """A replica sharing PostgreSQL whose heartbeat is older than this is taken for stopped: another
    handles the updates it kept (``bot.delivery.inbox``). Heartbeats come three times within it."""
    memory: bool = True
    """Read a person's digits against the shapes they corrected (``bot.reading.memory``); off: the network alone."""

    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_secret: SecretStr = SecretStr("")
    webhook_tls: Literal["proxy", "self-signed", "files"] = "proxy"
    """Where the webhook's TLS ends. "proxy": in front of the bot (a load balancer with its own
    certificate), the bot listens on HTTP. "self-signed": the bot serves HTTPS with a certificate it
    makes on first start under DATA_DIR/tls and uploads with setWebhook. "files": the bot serves
    HTTPS with WEBHOOK_CERT and WEBHOOK_KEY (PEM), the certificate uploaded too."""
    webhook_cert: Path | None = None
    webhook_key: Path | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    health_host: str = "127.0.0.1"
    health_port: int = 0
    on_rejected_token: Literal["exit", "wait"] = "exit"
    """When Telegram rejects BOT_TOKEN: "exit" with status 2 (a terminal, a CI job), or "wait" idle until
    stopped (under a supervisor that restarts what exits, so that the one log line is not repeated
    forever: compose sets it)."""
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    @field_validator("bot_token")
    @classmethod
    def _token_given(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is not set")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        if isinstance(value, int):
            return frozenset({value})
        return value

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> Settings:
        if self.mode == "webhook" and not (self.webhook_url and self.webhook_secret.get_secret_value()):
            raise ValueError("MODE=webhook needs WEBHOOK_URL and WEBHOOK_SECRET")
        if self.webhook_tls == "files" and not (self.webhook_cert and self.webhook_key):
            raise ValueError("WEBHOOK_TLS=files needs WEBHOOK_CERT and WEBHOOK_KEY")
        if self.webhook_tls != "proxy" and not self.webhook_url.startswith("https://"):
            raise ValueError(f"WEBHOOK_TLS={self.webhook_tls} needs an https:// WEBHOOK_URL")
        return self
