# tpmsync worker image: built only from this repository's files (pyproject.toml, README.md, tpmsync/)
# and the dependencies pyproject.toml declares. See README.md, "Deploy".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TPMSYNC_LOG_FORMAT=json

WORKDIR /src
COPY pyproject.toml README.md ./
COPY tpmsync/ tpmsync/
RUN pip install --no-cache-dir ".[postgres]" \
    && rm -rf /src \
    && useradd --create-home --uid 10001 tpmsync

USER tpmsync
WORKDIR /data
CMD ["tpmsync", "schedule", "run"]
