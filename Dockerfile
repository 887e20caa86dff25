# digitbot: the bot and its shipped models (no torch: it runs the models' ONNX exports), and the
# retraining tools on top (torch, CPU only).
#
#   docker compose build                      as users build it (python:3.11-slim; the retrain target
#                                             from PyTorch's CPU index)
#   docker build --build-arg BASE_IMAGE=... --target runtime .
#                                             as tests/test_container.py builds it here
#
# `opencv` builds OpenCV's wheel with only the modules the bot and the renderer call; `build` holds
# pip, its caches and whatever deploy/build-inputs carries (wheels, a CA bundle); `runtime` is the base
# trimmed (`runtime-base`) as one layer, then the finished virtualenv (pip itself removed), the code
# and the models.
# `retrain` adds torch, torchvision and matplotlib (the train extra) on top of `runtime`; the torch
# wheels pin a matched pair: TORCH_PACKAGES and TORCHVISION_PACKAGES change together.
ARG BASE_IMAGE=python:3.11-slim

# OpenCV from its release's source with only the modules the transform and the renderer call (core
# and imgproc: resizes, morphology, labelling, moments, blurs, thresholds, drawing), `features`
# (the binding's typing stubs name its classes) and the Python binding: PyPI's wheel brings every
# module, FFmpeg and OpenBLAS (173 MB installed). Without Intel's IPP, which OpenCV's build
# downloads from GitHub; readings are the same as with PyPI's wheel (docs/training-and-figures.md).
# A stage of its own, so that only a new OPENCV_VERSION rebuilds it (about 12 minutes on 2 cores).
FROM ${BASE_IMAGE} AS opencv
ARG OPENCV_VERSION=5.1.0.95
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENABLE_HEADLESS=1 \
    CMAKE_ARGS="-DBUILD_LIST=core,imgproc,features,python3 -DWITH_IPP=OFF -DWITH_ITT=OFF -DWITH_LAPACK=OFF -DWITH_EIGEN=OFF -DWITH_OPENCL=OFF -DWITH_FFMPEG=OFF -DWITH_PROTOBUF=OFF -DWITH_KLEIDICV=OFF -DWITH_FASTCV=OFF -DBUILD_JAVA=OFF"
# Of the build inputs only the CA bundle, if there is one: a wheel added for another stage must not
# rebuild OpenCV (the README is there so that the pattern always matches a file).
COPY deploy/build-inputs/README.md deploy/build-inputs/ca.cr[t] /build-inputs/
RUN set -e; headers=""; \
    python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(sysconfig.get_path("include") + "/Python.h"))' \
        || headers=python3-dev; \
    apt-get update; DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++ make $headers; \
    if [ -f /build-inputs/ca.crt ]; then export PIP_CERT=/build-inputs/ca.crt; fi; \
    python3 -m venv /opencv; \
    MAKEFLAGS="-j$(nproc)" /opencv/bin/pip wheel --no-deps --no-binary opencv-python-headless \
        "opencv-python-headless==${OPENCV_VERSION}" --wheel-dir /wheels

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_FIND_LINKS=/build-inputs
COPY deploy/build-inputs/ /build-inputs/
COPY --from=opencv /wheels/ /opencv-wheels/
RUN python3 -m venv /venv
# The bot's dependencies, from pyproject.toml only, so a code change does not reinstall them.
COPY pyproject.toml README.md /src/
RUN cd /src && mkdir -p model bot scripts && touch model/__init__.py bot/__init__.py scripts/__init__.py \
    && if [ -f /build-inputs/ca.crt ]; then export PIP_CERT=/build-inputs/ca.crt; fi \
    && /venv/bin/pip install /opencv-wheels/*.whl . && /venv/bin/pip uninstall -y digitbot

# The bot's virtualenv without what only installs need, nor what serving never loads: numpy's tests,
# ONNX Runtime's model tools and its C library for other languages (its Python module is
# self-contained). The imports the bot makes are checked after.
FROM build AS serving
RUN /venv/bin/pip uninstall -y pip setuptools \
    && cd /venv/lib/python3*/site-packages \
    && rm -rf numpy/tests numpy/*/tests onnxruntime/capi/libonnxruntime.so.* \
        onnxruntime/transformers onnxruntime/quantization onnxruntime/tools \
    && /venv/bin/python -c "import cv2, numpy, onnxruntime; onnxruntime.InferenceSession"

# The base without manuals, documentation, translations, glibc's iconv converters (nothing here calls
# iconv) and the wheels Debian keeps for making virtualenvs, with the bot's user and directories ...
FROM ${BASE_IMAGE} AS runtime-base
RUN (useradd --create-home --uid 10001 digitbot 2>/dev/null || adduser --disabled-password --uid 10001 digitbot) \
    && mkdir -p /data /cache /app/models \
    && chown -R digitbot:digitbot /data /cache /app/models \
    && rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* /usr/lib/*-linux-gnu/gconv \
        /usr/share/python-wheels /var/lib/apt/lists/* /var/cache/apt/* /var/log/*

# ... as one layer (what a later layer deletes still counts in the image), then the virtualenv, the
# code and the models.
FROM scratch AS runtime
COPY --from=runtime-base / /
# MALLOC_ARENA_MAX=2: glibc gives each thread that allocates its own heap by default, and the bot's
# inference workers and event loop keep ~50 MB more resident that way (docs/training-and-figures.md).
ENV MALLOC_ARENA_MAX=2 \
    LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DATA_DIR=/data \
    MODEL_PATH=/app/models \
    SHIPPED_MODELS=/app/shipped \
    HEALTH_HOST=0.0.0.0 \
    HEALTH_PORT=8080
COPY --from=serving /venv /venv
WORKDIR /app
COPY model ./model
COPY bot ./bot
COPY scripts ./scripts
# The release's models apart from the registry volume at /app/models: each start copies the versions
# the volume lacks (bot.reading.inference.Reader), so an upgraded image's model reaches a running deployment.
COPY models ./shipped
COPY alembic.ini ./
USER 10001
VOLUME ["/data"]
EXPOSE 8080 8443
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
CMD ["python", "-m", "bot"]

# Stages after `runtime`: the classic builder (no BuildKit) builds every stage before its target.
FROM build AS build-retrain
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_PACKAGES="torch==2.14.1"
ARG TORCHVISION_PACKAGES="torchvision==0.29.1"
# CPU-only torch: a few hundred MB instead of several GB of CUDA libraries. Then what training never
# touches: torch's C++ headers, test binaries and tests.
RUN cd /src && if [ -f /build-inputs/ca.crt ]; then export PIP_CERT=/build-inputs/ca.crt; fi \
    && /venv/bin/pip install --index-url "${TORCH_INDEX_URL}" --extra-index-url https://pypi.org/simple ${TORCH_PACKAGES} ${TORCHVISION_PACKAGES} \
    && /venv/bin/pip install '.[train]' && /venv/bin/pip uninstall -y digitbot \
    && cd /venv/lib/python3.11/site-packages && rm -rf torch/include torch/test torch/share

FROM runtime AS retrain
COPY --from=build-retrain /venv /venv
