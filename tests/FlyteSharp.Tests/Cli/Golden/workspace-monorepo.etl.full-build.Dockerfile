FROM python:3.12-slim-bookworm
USER root
ENV VIRTUAL_ENV=/opt/venv \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/root \
    PYTHONUNBUFFERED=1 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_CACHE_DIR=/root/.cache/uv
RUN python3 -m venv --without-pip /opt/venv
COPY .flytesharp/runner/flytesharp_runner.py /opt/flytesharp/flytesharp_runner.py
WORKDIR /root
# uv project 'workspace-app' (dependencies only; the project's own code travels in the code bundle)
# --inexact: keep what earlier layers (WithPipPackages, WithRequirements) installed into the same venv; an exact sync would remove it
RUN --mount=from=ghcr.io/astral-sh/uv:0.9.5,source=/uv,target=/usr/local/bin/uv \
    --mount=type=cache,target=/root/.cache/uv,id=flytesharp-uv \
    --mount=type=bind,source=.flytesharp/layers/1-uv,target=/tmp/flytesharp/uv-1,rw \
    cd /tmp/flytesharp/uv-1 \
 && uv sync --no-install-project --no-editable --inexact --only-group etl
# code bundle (full build)
COPY .flytesharp/layers/2-code/ /root/
