# Remorai image: one image, three roles (docker/entrypoint.sh web | worker | migrate | manage …).
# Multi-stage: dependencies are installed in a build stage into /opt/venv; the runtime stage
# copies that venv and the code, runs as a non-root user and serves gunicorn on port 8000.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
# Runtime dependencies only (every one has a wheel for linux/amd64 and arm64: no compiler).
# Hash-pinned (make lock): a release re-published with other bytes is refused.
RUN pip install --require-hashes -r /tmp/requirements.txt

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_DEBUG=false \
    LOG_FORMAT=json \
    PORT=8000
RUN groupadd --system --gid 10001 remorai \
    && useradd --system --uid 10001 --gid remorai --home-dir /app --shell /usr/sbin/nologin remorai
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=remorai:remorai . /app
# Static files are collected at build time with a throw-away secret: settings refuse to start
# without DJANGO_SECRET_KEY when DEBUG is off, and nothing signed at build time is kept.
RUN DJANGO_SECRET_KEY="build-time-only-collectstatic-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
        DJANGO_ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var/media \
    && chown -R remorai:remorai /app/var /app/staticfiles \
    && chmod +x /app/docker/entrypoint.sh
USER remorai
EXPOSE 8000
# By role (docker/healthcheck.py): web answers /healthz (Host: the first allowed host, so the check
# passes ALLOWED_HOSTS in production), a worker's cluster still has its worker processes, a
# one-off command is healthy while it runs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "/app/docker/healthcheck.py"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
