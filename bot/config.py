"""All settings, in one pydantic-settings class: environment variables or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr = Field(description="Token from @BotFather; never logged")
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str = "https://api.telegram.org/file/bot"

    data_dir: Path = Path("data")
    database_url: str = Field(default="", description="SQLAlchemy URL; default: SQLite under DATA_DIR")
    model_path: Path = SHIPPED_MODEL

    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    max_image_bytes: int = 20 * 1024 * 1024
    rate_limit_per_minute: int = 20
    inference_workers: int = 2
    low_confidence: float = 0.8
    model_check_seconds: float = 60.0

    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_secret: SecretStr = SecretStr("")
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    health_port: int = 0
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        if isinstance(value, int):
            return frozenset({value})
        return value

    @property
    def database(self) -> str:
        """The async SQLAlchemy URL: SQLite file by default, PostgreSQL URLs given any common form."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'digitbot.sqlite3'}"
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
            return "sqlite+aiosqlite://" + url[len("sqlite://") :]
        return url
