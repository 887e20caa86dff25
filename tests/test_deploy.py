"""Deployment: the compose files, the settings compose passes (PostgreSQL URL, webhook), health, the process."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.config import Settings
from bot.health import HealthServer
from bot.reading.inference import Reader
from bot.storage import Storage
from devkit.fake_telegram import TOKEN, FakeTelegram
from devkit.harness import bot_process, free_port, running, settings_for
from devkit.local import MODELS, PG_ADMIN, ROOT, fresh_database, postgres_missing
from devkit.photos import digit, jpeg, on_paper

COMPOSE = shutil.which("docker-compose")


def compose_run(tmp_path: Path, *files: str, filled: bool = True) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` in a copy of the deployment files, with .env.example as .env: as an
    operator fills it in (a token and a database password), or copied unchanged."""
    for name in (*files, "deploy"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, dirs_exist_ok=True)
        else:
            shutil.copy(source, tmp_path / name)
    env = (ROOT / ".env.example").read_text()
    if filled:
        env = env.replace("\nBOT_TOKEN=\n", "\nBOT_TOKEN=123:abc\n").replace("\nPOSTGRES_PASSWORD=\n", "\nPOSTGRES_PASSWORD=chosen\n")
    (tmp_path / ".env").write_text(env)
    args = [COMPOSE or "docker-compose"] + [part for f in files for part in ("-f", f)] + ["config"]
    return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=60)


def compose_config(tmp_path: Path, *files: str) -> dict[str, Any]:
    out = compose_run(tmp_path, *files)
    assert out.returncode == 0, out.stderr
    config: dict[str, Any] = yaml.safe_load(out.stdout)
    return config


@pytest.mark.skipif(COMPOSE is None, reason="Debian's docker-compose is not installed (apt-get install docker-compose)")
def test_compose_file_is_valid_and_wired(tmp_path):
    config = compose_config(tmp_path, "docker-compose.yml")
    services = config["services"]
    bot, postgres, retrain = services["bot"], services["postgres"], services["retrain"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert bot["restart"] == "unless-stopped" and postgres["restart"] == "unless-stopped"
    assert (
        bot["environment"]["DATABASE_URL"].startswith("postgresql://digitbot:") and "@postgres:5432/" in bot["environment"]["DATABASE_URL"]
    )
    assert any(v.startswith("botdata:/data") for v in bot["volumes"]) and any(v.startswith("models:/app/models") for v in bot["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.startswith("pgdata:") for v in postgres["volumes"])
    assert retrain["profiles"] == ["retrain"] and "scripts.retrain" in retrain["command"]
    assert any(v.startswith("models:/app/models") for v in retrain["volumes"])
    assert set(config["volumes"]) >= {"pgdata", "botdata", "models"}
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in bot["environment"].items() if k != "BOT_TOKEN"}, bot_token="x")
    assert settings.database.startswith("postgresql+asyncpg://digitbot:")
    assert settings.model_path == Path("/app/models") and settings.health_port == 8080
    backup, prometheus = services["backup"], services["prometheus"]
    assert any(v.startswith("backups:/backups") for v in backup["volumes"]) and backup["restart"] == "unless-stopped"
    for name in ("bot", "postgres", "backup", "prometheus"):
        assert services[name]["mem_limit"] and services[name]["logging"]["options"]["max-size"] == "10m", name
    assert prometheus["profiles"] == ["metrics"] and prometheus["ports"][0].startswith("127.0.0.1:"), "only this host reaches it"
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())["scrape_configs"][0]["dns_sd_configs"][0]
    assert scrape["names"] == ["bot"] and scrape["port"] == settings.health_port, "every replica's /metrics"


@pytest.mark.skipif(COMPOSE is None, reason="Debian's docker-compose is not installed (apt-get install docker-compose)")
def test_compose_refuses_to_start_without_a_token_or_a_database_password(tmp_path):
    out = compose_run(tmp_path, "docker-compose.yml", filled=False)
    assert out.returncode != 0
    assert "is empty - put the token from @BotFather in .env" in out.stderr or "choose a database password" in out.stderr


def test_no_setting_has_a_password_or_token_by_default():
    text = (ROOT / "docker-compose.yml").read_text()
    assert ":-digitbot" not in text and "${POSTGRES_PASSWORD:?" in text and "${BOT_TOKEN:?" in text
    example = (ROOT / ".env.example").read_text().splitlines()
    assert "POSTGRES_PASSWORD=" in example and "BOT_TOKEN=" in example


def test_env_example_documents_every_setting():
    documented = {line.split("=", 1)[0].lstrip("# ").strip() for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line}
    assert {name.upper() for name in Settings.model_fields} <= documented


def test_dockerfile_uses_cpu_wheels_non_root_and_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert "download.pytorch.org/whl/cpu" in text and 'TORCH_PACKAGES="torch==2.14.1"' in text
    assert "USER 10001" in text and "HEALTHCHECK" in text
    assert "COPY models ./shipped" in text and "SHIPPED_MODELS=/app/shipped" in text, "the release's models apart from the volume"
    assert "COPY --from=serving /venv /venv" in text, "the runtime stage takes only the virtualenv from the build stages"
    assert text.index("COPY pyproject.toml") < text.index("COPY bot ./bot"), "dependencies must be a layer of their own"


def _locally(environment: dict[str, str], database: str, port: int) -> dict[str, str]:
    """Compose's settings for the bot, with this machine's PostgreSQL, addresses and a webhook on ``port``."""
    env = {k.lower(): v for k, v in environment.items() if k != "BOT_TOKEN"}
    local_pg = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "")
    env["database_url"] = environment["DATABASE_URL"].replace("digitbot:chosen@postgres:5432/digitbot", f"{local_pg}/{database}")
    for own in ("data_dir", "telegram_api_url", "telegram_file_url"):  # the test's own, not production's
        env.pop(own)
    env.update(model_path=str(ROOT / "models"), webhook_listen="127.0.0.1", webhook_port=str(port), webhook_url=f"https://127.0.0.1:{port}")
    env.update(webhook_secret="s3cret-token", health_host="127.0.0.1", health_port=str(free_port()))
    return env


async def test_webhook_over_https_with_a_certificate_made_on_first_start(fake, tmp_path, mnist_test):
    """WEBHOOK_TLS=self-signed: the bot makes a certificate for the webhook's host, serves HTTPS with it
    and uploads it with setWebhook; Telegram (here, a client trusting only that upload) reaches it."""
    port = free_port()
    tls = {"mode": "webhook", "webhook_url": f"https://127.0.0.1:{port}", "webhook_secret": "s3cret", "webhook_tls": "self-signed"}
    settings = settings_for(fake, tmp_path, webhook_listen="127.0.0.1", webhook_port=port, **tls)
    async with running(settings):
        registered = fake.of("setWebhook")[-1]
        assert registered.params["url"] == f"https://127.0.0.1:{port}/telegram"
        uploaded = registered.files["certificate"]
        assert uploaded == (tmp_path / "tls" / "cert.pem").read_bytes() and b"PRIVATE KEY" not in uploaded
        trusted = ssl.create_default_context(cadata=uploaded.decode())
        update = _photo_update(fake.add_file(jpeg(on_paper([digit(mnist_test, 6)]))))
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"https://127.0.0.1:{port}/telegram", json=update, headers=headers, ssl=trusted) as accepted:
                assert accepted.status == 200
            with pytest.raises(aiohttp.ClientError):
                await http.post(f"http://127.0.0.1:{port}/telegram", json=update, headers=headers)
        answer = await fake.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == 9001)
        assert "<b>6</b>" in answer.params["text"]
    async with running(settings):
        assert fake.of("setWebhook")[-1].files["certificate"] == uploaded, "made once, kept"


def test_webhook_tls_settings_say_what_they_need(tmp_path):
    base: dict[str, Any] = {"bot_token": "1:x", "mode": "webhook", "webhook_secret": "s", "_env_file": None}
    with pytest.raises(ValueError, match="WEBHOOK_CERT and WEBHOOK_KEY"):
        Settings(**base, webhook_url="https://bot.example", webhook_tls="files")
    with pytest.raises(ValueError, match="needs an https:// WEBHOOK_URL"):
        Settings(**base, webhook_url="http://bot.example", webhook_tls="self-signed")


def _photo_update(file_id: str) -> dict[str, Any]:
    photo = {"file_id": file_id, "file_unique_id": "x", "width": 640, "height": 480, "file_size": 1000}
    sender, chat = {"id": 9001, "is_bot": False, "first_name": "u"}, {"id": 9001, "type": "private"}
    return {"update_id": 1, "message": {"message_id": 77, "date": 0, "chat": chat, "from": sender, "photo": [photo]}}


@pytest.mark.skipif(COMPOSE is None, reason="Debian's docker-compose is not installed (apt-get install docker-compose)")
async def test_compose_environment_in_webhook_mode_against_postgres(tmp_path, mnist_test):
    """The settings compose gives the bot (PostgreSQL URL form, webhook), run for real here."""
    if why := postgres_missing():
        pytest.skip(why)
    environment = compose_config(tmp_path, "docker-compose.yml", "docker-compose.webhook.yml")["services"]["bot"]["environment"]
    fake = FakeTelegram()
    await fake.start()
    async with fresh_database() as database:
        try:
            port = free_port()
            env = _locally(environment, database.rsplit("/", 1)[1], port)
            assert env["mode"] == "webhook" and env["database_url"].startswith("postgresql://")
            settings = settings_for(fake, tmp_path / "data", **env)
            assert env["webhook_tls"] == "self-signed", "compose's webhook profile serves HTTPS"
            async with running(settings):
                registered = fake.of("setWebhook")[-1]
                assert registered.params["url"] == f"https://127.0.0.1:{port}/telegram"
                assert registered.params["secret_token"] == "s3cret-token"
                trusted = ssl.create_default_context(cadata=registered.files["certificate"].decode())
                update = _photo_update(fake.add_file(jpeg(on_paper([digit(mnist_test, 5)]))))
                async with aiohttp.ClientSession() as http:
                    url = f"https://127.0.0.1:{port}/telegram"
                    wrong, right = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
                    async with http.post(url, json=update, headers=wrong, ssl=trusted) as refused:
                        assert refused.status == 403
                    fives = _fives(await _metrics(http, settings.health_port))  # earlier tests in this process counted theirs
                    async with http.post(url, json=update, headers=right, ssl=trusted) as accepted:
                        assert accepted.status == 200
                    answer = await fake.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == 9001)
                    assert "<b>5</b>" in answer.params["text"]
                    async with http.get(f"http://127.0.0.1:{settings.health_port}/healthz") as health:
                        assert health.status == 200 and (await health.json())["database"] is True
                    body = await _metrics_once_counted(http, settings.health_port, fives)
                    assert _fives(body) == fives + 1 and "digitbot_reply_latency_seconds_bucket" in body
            storage = Storage(settings.database)
            stats = await storage.stats()
            await storage.close()
            assert stats.predictions == 1
        finally:
            await fake.stop()


async def _metrics(http: aiohttp.ClientSession, port: int) -> str:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as metrics:
        return await metrics.text()


def _fives(body: str) -> float:
    """How many 5s the bot has read, as /metrics counts them (0 before the first)."""
    line = next((line for line in body.splitlines() if line.startswith('digitbot_predictions_total{digit="5"}')), "")
    return float(line.split()[-1]) if line else 0.0


async def _metrics_once_counted(http: aiohttp.ClientSession, port: int, fives: float) -> str:
    """/metrics once the photo's 5 is counted (beyond the ``fives`` counted before it): that happens after
    its answer's message id is committed, just after the send."""
    body = ""
    for _ in range(600):
        body = await _metrics(http, port)
        if _fives(body) > fives:
            break
        await asyncio.sleep(0.05)
    return body


async def test_healthz_is_503_without_database_or_model():
    storage = Storage(f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none")
    server = HealthServer(storage, Reader(ROOT / "models", 1), "127.0.0.1", free_port())
    await server.start()
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{server.port}/healthz") as response:
            assert response.status == 503
            assert await response.json() == {"status": "unhealthy", "database": False, "model": None}
    finally:
        await server.stop()
        await storage.close()


def test_missing_token_is_one_clear_line(tmp_path):
    for env in ({}, {"BOT_TOKEN": ""}):
        result = subprocess.run(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0
        assert result.stderr.strip().splitlines() == [
            "error: BOT_TOKEN is not set (export it or put it in .env; a bot token comes from @BotFather)"
        ]


async def test_python_m_bot_with_only_a_token_and_sigterm_loses_nothing(tmp_path, mnist_test):
    fake = FakeTelegram()
    await fake.start()
    process = bot_process(fake, tmp_path, BOT_TOKEN=TOKEN, LOG_FORMAT="json")
    try:
        await fake.wait_for(lambda c: c.method == "setMyCommands", timeout=90)
        fake.file_delay = 1.0
        message = fake.send_photo(8001, jpeg(on_paper([digit(mnist_test, 6)])))
        await fake.wait_for(lambda c: c.method == "getFile")
        process.send_signal(signal.SIGTERM)  # the download is held: the photo is surely mid-way
        assert not fake.of("sendMessage", 8001)
        answer = await fake.reply_to(message, timeout=30)
        assert "<b>6</b>" in answer.params["text"]
        code = await asyncio.to_thread(process.wait, 60)
        stderr = process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
        await fake.stop()
    assert code == 0, stderr
    assert TOKEN not in stderr and TOKEN.split(":")[1] not in stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any("stopped cleanly" in line["message"] for line in lines)
    assert not any(line["logger"].startswith("httpx") for line in lines)
    storage = Storage(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'digitbot.sqlite3'}")
    stats = await storage.stats()
    await storage.close()
    assert stats.predictions == 1


def test_alembic_upgrade_needs_only_the_database_settings(tmp_path):
    database = tmp_path / "ops.sqlite3"
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"predictions", "corrections", "inbox", "rate_limits", "alembic_version"} <= tables


async def test_start_up_waits_for_telegram_with_one_line_per_try(tmp_path):
    """Telegram unreachable at boot: no traceback, one line naming the URL per try, then it comes up."""
    fake = FakeTelegram()
    fake.port = free_port()  # nothing listens there yet
    process = bot_process(fake, tmp_path, BOT_TOKEN=TOKEN)
    try:
        first = await asyncio.to_thread(process.stderr.readline) if process.stderr else ""
        assert f"Telegram not reachable at {fake.api_url}" in first and process.poll() is None
        await fake.start(fake.port)
        await fake.reply_to(fake.send_message(8002, text="/help"), timeout=90)  # up and polling
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 60)
        rest = process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
        await fake.stop()
    assert code == 0 and "Traceback" not in first + rest, rest


async def test_a_rejected_token_is_one_line_and_exit_code_2(fake, tmp_path):
    process = bot_process(fake, tmp_path, BOT_TOKEN="999:not-the-token")
    try:
        code = await asyncio.to_thread(process.wait, 120)
    finally:
        if process.poll() is None:
            process.kill()
    (line,) = (process.stderr.read() if process.stderr else "").strip().splitlines()
    assert code == 2 and "Telegram rejected BOT_TOKEN" in line and "not-the-token" not in line


async def test_a_rejected_token_under_a_supervisor_is_two_lines_then_idle_until_stopped(fake, tmp_path):
    """Compose restarts what exits: the bot stays up, idle, rather than repeating its line forever."""
    process = bot_process(fake, tmp_path, BOT_TOKEN="999:not-the-token", ON_REJECTED_TOKEN="wait")
    try:
        lines = [await asyncio.to_thread(process.stderr.readline) for _ in range(2)] if process.stderr else []
        await asyncio.sleep(1)
        idle = process.poll() is None
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 60)
    finally:
        if process.poll() is None:
            process.kill()
    assert "Telegram rejected BOT_TOKEN" in lines[0] and "digitbot is idle: fix BOT_TOKEN" in lines[1], lines
    assert idle and code == -signal.SIGTERM
    assert "not-the-token" not in "".join(lines)


async def test_a_model_without_its_onnx_export_is_refused_with_the_command_that_makes_it(fake, tmp_path):
    """A retrained version from before exports, made current by hand: the bot says what to run, and stops."""
    registry_dir = tmp_path / "models"
    registry_dir.mkdir()
    (registry_dir / "v3.safetensors").write_bytes((MODELS / "v3.safetensors").read_bytes())
    card = json.loads((MODELS / "v3.json").read_text())
    (registry_dir / "v3.json").write_text(json.dumps({k: v for k, v in card.items() if k != "export"}))
    process = bot_process(fake, tmp_path, BOT_TOKEN=TOKEN, MODEL_PATH=str(registry_dir), SHIPPED_MODELS=str(registry_dir))
    try:
        code = await asyncio.to_thread(process.wait, 120)
    finally:
        if process.poll() is None:
            process.kill()
    stderr = process.stderr.read() if process.stderr else ""
    assert code == 2 and "Traceback" not in stderr, stderr
    assert f"v3 has no ONNX export beside v3.safetensors: run python -m scripts.models --models {registry_dir} export v3" in stderr


async def test_ctrl_c_while_telegram_is_being_reached_is_one_line_and_exit_130(tmp_path):
    fake = FakeTelegram()
    fake.port = free_port()  # nothing listens: start-up waits, trying again
    process = bot_process(fake, tmp_path, BOT_TOKEN=TOKEN)
    try:
        first = await asyncio.to_thread(process.stderr.readline) if process.stderr else ""
        assert "Telegram not reachable" in first  # start-up is surely waiting now
        process.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(process.wait, 60)
        rest = process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 130 and rest.strip().splitlines() == ["digitbot: stopped (Ctrl-C)"], rest


async def test_ctrl_c_while_polling_stops_cleanly_with_exit_130(fake, tmp_path):
    process = bot_process(fake, tmp_path, BOT_TOKEN=TOKEN)
    try:
        await fake.reply_to(fake.send_message(8003, text="/help"), timeout=90)  # up and polling
        process.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(process.wait, 60)
        stderr = process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 130 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "digitbot: stopped (Ctrl-C)"
