"""The deployment as users run it: the image built, the compose stack started, data that survives.

Runs where a Docker engine answers and the local base images exist (``.ci/run`` starts
``dockerd`` and builds them with ``deploy/local-base.sh``); skipped with the reason otherwise.
The bot image is built from the repository's Dockerfile with this machine's inputs (a local
Debian base, a CPU torch wheel from disk, the host's CA bundle, all in the build stage only);
PostgreSQL is ``deploy/postgres`` tagged as the image the compose file names, so the compose
file itself is the one users run. The fake Bot API listens on the compose network's gateway
address: only that network and loopback carry traffic.

Not run here: ``retrain --dry-run`` in the ``retrain`` profile. Its image needs torchvision
matched to torch; this machine has only torch 2.13.0+cpu on disk, PyTorch's CPU index cannot be
reached, and PyPI's torchvision for 2.13 requires the CUDA build of torch (several GB).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from devkit.fake_telegram import TOKEN, FakeTelegram
from devkit.harness import buttons
from devkit.local import ROOT
from model.reading import registry

DOCKER, COMPOSE = shutil.which("docker"), shutil.which("docker-compose")
BOT_BASE, PG_BASE = "digitbot-base:bookworm", "digitbot-postgres-base:bookworm"
INPUTS = ROOT / "deploy" / "build-inputs"
USER = 9301


def run(*args: str, timeout: float = 120, check: bool = True, cwd: Path | None = None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout.strip()


def missing() -> str | None:
    """Why the container test cannot run here, or None."""
    if DOCKER is None or COMPOSE is None:
        return "docker or docker-compose is not installed (.ci/run installs Debian's docker.io and docker-compose)"
    if subprocess.run([DOCKER, "info"], capture_output=True, timeout=30).returncode != 0:
        return "no Docker engine answers (.ci/run starts dockerd as root)"
    for base in (BOT_BASE, PG_BASE):
        if subprocess.run([DOCKER, "image", "inspect", base], capture_output=True, timeout=30).returncode != 0:
            return f"the local base image {base} is missing (deploy/local-base.sh builds it)"
    return None


WHY = missing()
pytestmark = [
    pytest.mark.container,
    pytest.mark.skipif(WHY is not None, reason=WHY or ""),
]


@pytest.fixture(scope="module")
def images() -> Iterator[None]:
    """digitbot:latest (target runtime: no torch) and postgres:16-alpine, built the way users' compose
    builds them, with this machine's base and CA bundle given to the build stage only."""
    added = []
    args = ["--build-arg", f"BASE_IMAGE={BOT_BASE}"]
    if os.environ.get("PIP_CERT"):
        added.append(Path(shutil.copy(os.environ["PIP_CERT"], INPUTS / "ca.crt")))
    try:
        started = time.monotonic()
        run("docker", "build", "--network", "host", "-q", "--target", "runtime", "-t", "digitbot:latest", *args, str(ROOT), timeout=1200)
        print(f"bot image built in {time.monotonic() - started:.0f} s")
        run("docker", "build", "-q", "-t", "postgres:16-alpine", str(ROOT / "deploy" / "postgres"), timeout=300)
    finally:
        for path in added:
            path.unlink(missing_ok=True)
    yield


def test_the_image_is_small_holds_no_torch_and_runs_as_a_user(images):
    size = int(run("docker", "image", "inspect", "digitbot:latest", "--format", "{{.Size}}"))
    print(f"digitbot:latest is {size / 1e6:.0f} MB")
    assert size <= 400e6
    absent = "import importlib.util as u; print([m for m in ('torch', 'torchvision', 'pip') if u.find_spec(m)])"
    assert run("docker", "run", "--rm", "--entrypoint", "python", "digitbot:latest", "-c", absent) == "[]"
    assert run("docker", "run", "--rm", "--entrypoint", "id", "digitbot:latest", "-u") == "10001"
    history = run("docker", "image", "history", "--no-trunc", "digitbot:latest", "--format", "{{.CreatedBy}}")
    assert "build-inputs" not in history and "ca.crt" not in history, "build inputs stay in the build stage"


class Stack:
    """The compose project in a copy of the deployment files, with its own name, network and volumes."""

    def __init__(self, folder: Path, *overlays: str) -> None:
        self.folder, self.name = folder, f"digitbottest{uuid.uuid4().hex[:8]}"
        # Named files only with overlays: without -f, compose also reads docker-compose.override.yml.
        self.files = [arg for name in ("docker-compose.yml", *overlays) for arg in ("-f", name)] if overlays else []
        for name in ("docker-compose.yml", *overlays):
            shutil.copy(ROOT / name, folder / name)
        shutil.copytree(ROOT / "deploy", folder / "deploy", ignore=shutil.ignore_patterns("build-inputs"))

    async def compose(self, *args: str, timeout: float = 180) -> str:  # noqa: ASYNC109
        """docker-compose in a thread: the fake Bot API shares this event loop and must keep answering."""
        return await asyncio.to_thread(run, "docker-compose", "-p", self.name, *self.files, *args, cwd=self.folder, timeout=timeout)

    async def psql(self, query: str) -> str:
        return await self.compose("exec", "-T", "postgres", "psql", "-U", "digitbot", "-d", "digitbot", "-tAc", query)

    async def gateway(self) -> str:
        network = json.loads(await asyncio.to_thread(run, "docker", "network", "inspect", f"{self.name}_default"))[0]
        return str(network["IPAM"]["Config"][0]["Gateway"])

    async def down(self) -> None:
        await asyncio.to_thread(
            run, "docker-compose", "-p", self.name, *self.files, "down", "-v", "--remove-orphans", cwd=self.folder, check=False
        )

    async def up(self, fake: FakeTelegram, *services: str, settings: str = "") -> float:
        """PostgreSQL first (its network's gateway is where the fake Bot API listens), then the rest
        (or ``services``), the bot pointed at the fake; seconds from the bot's ``up`` to healthy."""
        env = self.folder / ".env"
        env.write_text(f"BOT_TOKEN={TOKEN}\nPOSTGRES_PASSWORD=container-test\n")
        await self.compose("up", "-d", "--no-build", "postgres")
        await fake.start(host=await self.gateway())
        env.write_text(
            f"BOT_TOKEN={TOKEN}\nPOSTGRES_PASSWORD=container-test\nMODEL_CHECK_SECONDS=2\n"
            f"TELEGRAM_API_URL={fake.api_url}\nTELEGRAM_FILE_URL={fake.file_url}\n{settings}"
        )
        started = time.monotonic()
        await self.compose("up", "-d", "--no-build", *services)
        await self.healthy()
        return time.monotonic() - started

    async def address(self, service: str) -> str:
        """A service's address on the stack's network, which this host reaches."""
        container = await self.compose("ps", "-q", service)
        return await asyncio.to_thread(
            run, "docker", "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container
        )

    async def healthy(self, timeout: float = 90) -> float:  # noqa: ASYNC109
        """Seconds until Docker's own health check says healthy."""
        started = time.monotonic()
        container = await self.compose("ps", "-q", "bot")
        while True:
            status = await asyncio.to_thread(run, "docker", "inspect", "--format", "{{.State.Health.Status}}", container, check=False)
            if status == "healthy":
                return time.monotonic() - started
            assert time.monotonic() - started < timeout, f"bot not healthy after {timeout} s: {status}"
            await asyncio.sleep(1)


async def read(fake: FakeTelegram, photo: bytes) -> str:
    answer = await fake.reply_to(fake.send_photo(USER, photo), timeout=60)
    text: str = answer.params["text"]
    return text


async def test_the_stack_answers_keeps_its_data_and_takes_a_new_model(images, tmp_path, photo_of):
    stack = Stack(tmp_path)
    fake = FakeTelegram()
    try:
        print(f"stack healthy {await stack.up(fake):.0f} s after up")

        answer = await fake.reply_to(fake.send_photo(USER, photo_of(7)), timeout=60)
        assert "<b>7</b>" in answer.params["text"]
        prediction_id = int(buttons(answer)[0].split(":")[1])
        fake.press(USER, answer.params["_result"], f"fb:{prediction_id}:1")
        await fake.wait_for(lambda c: c.method == "answerCallbackQuery", timeout=30)
        assert await stack.psql("SELECT count(*) FROM predictions") == "1"
        assert await stack.psql("SELECT label FROM corrections") == "1"

        await stack.compose("run", "--rm", "-e", "BACKUP_ONCE=1", "backup")
        restore = (
            "createdb -h postgres -U digitbot restored && latest=$(ls -1 /backups/digitbot-*.sql.gz | sort | tail -n 1)"
            ' && gunzip -c "$latest" | psql -q -h postgres -U digitbot -d restored > /dev/null'
            " && psql -h postgres -U digitbot -d restored -tAc 'SELECT count(*) FROM corrections'"
        )
        restored = await stack.compose("run", "--rm", "--entrypoint", "sh", "backup", "-c", restore)
        assert restored.splitlines()[-1] == "1", "a backup restores into an empty database with the correction in it"
        bot_id = await stack.compose("ps", "-q", "bot")
        shown = "{{.HostConfig.Memory}} {{.HostConfig.LogConfig.Config}}"
        limits = await asyncio.to_thread(run, "docker", "inspect", "--format", shown, bot_id)
        assert limits.startswith(str(512 * 1024**2)) and "max-size:10m" in limits

        await stack.compose("restart", "bot")
        await stack.healthy()
        assert "<b>4</b>" in await read(fake, photo_of(4))
        await stack.compose("stop")
        await stack.compose("start")
        await stack.healthy()
        assert await stack.psql("SELECT count(*) FROM predictions") == "2" and await stack.psql("SELECT count(*) FROM corrections") == "1"

        promote = (
            "import shutil; from pathlib import Path; from model.reading import registry; m = Path('/app/models');"
            " w, c = registry.read_card(m); v9 = m / 'v9.safetensors'; shutil.copy(w, v9);"
            " [shutil.copy(registry.graph(w, p), registry.graph(v9, p)) for p in registry.GRAPHS if registry.graph(w, p).exists()];"
            " registry.write_card(v9, {**c, 'version': 'v9'}); registry.set_current(m, 'v9')"
        )
        await stack.compose("exec", "-T", "bot", "python", "-c", promote)
        for _ in range(30):
            if "model v9" in await read(fake, photo_of(3)):
                break
            await asyncio.sleep(1)
        else:
            raise AssertionError("the promoted model was not picked up")
        await stack.compose("stop")
        await stack.compose("start")
        await stack.healthy()
        assert "model v9" in await read(fake, photo_of(5)), "the models volume keeps the promoted model"
    finally:
        await stack.down()
        await fake.stop()


async def test_webhook_mode_serves_https_with_the_certificate_it_made_and_uploaded(images, tmp_path, photo_of):
    """``docker-compose.webhook.yml`` as an operator runs it, the proxy left out (no nginx image
    without a registry; it passes TLS through unchanged): the bot makes a certificate for
    WEBHOOK_URL's host, uploads it with ``setWebhook``, and answers an update posted over HTTPS."""
    stack = Stack(tmp_path, "docker-compose.webhook.yml")
    fake = FakeTelegram()
    try:
        await stack.up(fake, "postgres", "bot", settings="WEBHOOK_URL=https://bot.test:8443\nWEBHOOK_SECRET=s3cret\n")
        registered = await fake.wait_for(lambda c: c.method == "setWebhook", timeout=60)
        assert registered.params["url"] == "https://bot.test:8443/telegram" and registered.params["secret_token"] == "s3cret"
        trusted = ssl.create_default_context(cadata=registered.files["certificate"].decode())
        sender = {"id": USER, "is_bot": False, "first_name": "u"}
        photo = {"file_id": fake.add_file(photo_of(7)), "file_unique_id": "w7", "width": 200, "height": 200, "file_size": 1000}
        message = {"message_id": 1, "date": 0, "chat": {"id": USER, "type": "private"}, "from": sender, "photo": [photo]}
        url = f"https://{await stack.address('bot')}:8443/telegram"
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
            http.post(
                url,
                json={"update_id": 1, "message": message},
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
                ssl=trusted,
                server_hostname="bot.test",
            ) as response,
        ):
            assert response.status == 200
        answer = await fake.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == USER, timeout=60)
        assert "<b>7</b>" in answer.params["text"]
    finally:
        await stack.down()
        await fake.stop()


async def test_a_newer_image_brings_its_model_which_is_served_when_the_operator_says(images, tmp_path, photo_of):
    """An upgrade as an operator does it: the stack runs, a newer image (here: the same image with one
    more shipped model) replaces the bot, its model reaches the volume but is served only after
    ``scripts.models use``."""
    release = (ROOT / "models" / "current").read_text().strip()
    context = tmp_path / "next"
    context.mkdir()
    weights = ROOT / "models" / f"{release}.safetensors"
    shutil.copy(weights, context / "v99.safetensors")
    graphs = [registry.graph(context / "v99.safetensors", prefix) for prefix in registry.GRAPHS if registry.graph(weights, prefix).exists()]
    for graph in graphs:
        shutil.copy(weights.with_name(graph.name.replace("v99", release)), graph)
    card = json.loads((ROOT / "models" / f"{release}.json").read_text())
    (context / "v99.json").write_text(json.dumps(card | {"version": "v99"}))
    (context / "current").write_text("v99\n")
    shipped = " ".join(["v99.safetensors", *(graph.name for graph in graphs), "v99.json", "current"])
    (context / "Dockerfile").write_text(f"FROM digitbot:latest\nCOPY {shipped} /app/shipped/\n")
    run("docker", "build", "-q", "-t", "digitbot:next", str(context), timeout=300)
    folder = tmp_path / "stack"
    folder.mkdir()
    stack = Stack(folder)
    fake = FakeTelegram()
    try:
        await stack.up(fake)
        assert f"model {release}" in await read(fake, photo_of(7)), "a first start serves the image's model"

        (folder / "docker-compose.override.yml").write_text("services:\n  bot:\n    image: digitbot:next\n")
        await stack.compose("up", "-d", "--no-build")
        await stack.healthy()
        assert f"model {release}" in await read(fake, photo_of(4)), "an upgrade alone changes nothing served"
        logs = await stack.compose("logs", "--no-color", "bot")
        assert "this release ships v99" in logs and "shipped models copied" in logs

        assert "-> v99" in await stack.compose("exec", "-T", "bot", "python", "-m", "scripts.models", "use", "v99")
        for _ in range(30):
            if "model v99" in await read(fake, photo_of(3)):
                break
            await asyncio.sleep(1)
        else:
            raise AssertionError("the chosen shipped model was not picked up")
    finally:
        await stack.down()
        await fake.stop()
        run("docker", "rmi", "-f", "digitbot:next", check=False)
