# syntax=docker/dockerfile:1
# Flowdeck image: web (default command), worker (`flask worker`) and dispatcher
# (`flask events dispatch`) all run from it. Built from the hashed lock only, so an image
# built today and one built next year from the same commit hold the same packages.
# Not built in this repository's CI (no registry to pull the base image from): see README.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock

FROM python:3.11-slim AS runtime
RUN groupadd --system --gid 10001 flowdeck \
    && useradd --system --uid 10001 --gid flowdeck --no-create-home --home-dir /app --shell /usr/sbin/nologin flowdeck
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Code is owned by root and read-only to the app user; it writes only to mounted volumes
# (/tmp, PROMETHEUS_MULTIPROC_DIR, BLOB_DIR).
COPY wsgi.py ./
COPY webapp ./webapp
COPY jobs ./jobs
COPY migrations ./migrations
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FLASK_APP=wsgi \
    FLOWDECK_ENV=production \
    FLOWDECK_INSTANCE_DIR=/tmp/flowdeck
USER 10001:10001
EXPOSE 8000
# Exec form: gunicorn is PID 1 and gets SIGTERM itself (graceful stop, then exit 0).
CMD ["gunicorn", "-c", "python:webapp.metrics.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-", "wsgi:app"]
