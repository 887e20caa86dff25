# digitbot: the Telegram bot, its shipped model and the retraining script, on CPU.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# 1. CPU-only torch and torchvision, pinned as a matched pair: a few hundred MB instead of
#    several GB of CUDA libraries. The slowest layer, and it changes least often.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1

# 2. The other dependencies, from pyproject.toml only, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p model bot scripts \
    && touch model/__init__.py bot/__init__.py scripts/__init__.py \
    && pip install . \
    && pip uninstall -y digitbot \
    && rm -rf model bot scripts build *.egg-info

# 3. The code and the shipped model.
COPY model ./model
COPY bot ./bot
COPY scripts ./scripts
COPY models ./models
COPY alembic.ini ./

RUN useradd --create-home --uid 10001 digitbot \
    && mkdir -p /data /cache \
    && chown -R digitbot:digitbot /data /cache /app/models
USER digitbot

ENV DATA_DIR=/data \
    MODEL_PATH=/app/models \
    HEALTH_HOST=0.0.0.0 \
    HEALTH_PORT=8080
VOLUME ["/data"]
EXPOSE 8080 8443

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"

CMD ["python", "-m", "bot"]
