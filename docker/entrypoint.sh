#!/bin/sh
# One image, three roles. Usage: entrypoint.sh web | worker | migrate | manage <args…>
#   web      gunicorn on 0.0.0.0:${PORT:-8000}: threaded workers (gthread), so a slow client holds
#            one of WEB_CONCURRENCY × GUNICORN_THREADS threads, not a whole worker, and is cut off
#            by the body pace check (remorai/slowbody.py) once it falls below its minimum rate
#   worker   the django-q2 cluster (python manage.py qcluster)
#   migrate  one-off: apply migrations, then exit (run it before rolling out web and worker)
#   manage   any other management command, e.g. `manage createsuperuser`
set -eu

# The LiteLLM master key lives in Secrets Manager as a random token; the proxy wants keys that
# start with "sk-", so both sides add the prefix (deploy/remorai_deploy/services.py).
if [ -z "${LITELLM_API_KEY:-}" ] && [ -n "${LITELLM_API_KEY_TOKEN:-}" ]; then
  LITELLM_API_KEY="sk-${LITELLM_API_KEY_TOKEN}"
  export LITELLM_API_KEY
fi
unset LITELLM_API_KEY_TOKEN

# On ECS the load balancer's health check sends the task's private IP as Host; Django rejects a
# Host it does not know, so the task's own addresses join DJANGO_ALLOWED_HOSTS.
if [ -n "${ECS_CONTAINER_METADATA_URI_V4:-}" ]; then
  task_ips="$(python "$(dirname "$0")/ecs_task_ips.py" || true)"
  if [ -n "$task_ips" ]; then
    DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:+${DJANGO_ALLOWED_HOSTS},}${task_ips}"
    export DJANGO_ALLOWED_HOSTS
  fi
fi

role="${1:-}"
[ $# -gt 0 ] && shift
case "$role" in
  web)
    # remorai/gunicorn_conf.py: GUNICORN_THREADS threads per worker, a connection only when a
    # thread is free, no keep-alive, no control socket, JSON logs when LOG_FORMAT=json.
    exec gunicorn remorai.wsgi:application \
      --config python:remorai.gunicorn_conf \
      --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-3}" \
      --worker-class gthread \
      --timeout "${GUNICORN_TIMEOUT:-120}" \
      --graceful-timeout 30 \
      --forwarded-allow-ips "*" \
      --access-logfile - \
      "$@"
    ;;
  worker)
    python manage.py queue_metrics_schedule
    exec python manage.py qcluster "$@"
    ;;
  migrate)
    exec python manage.py migrate --noinput "$@"
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    echo "usage: entrypoint.sh web | worker | migrate | manage <command> [args…]" >&2
    [ -n "$role" ] && echo "unknown role: $role" >&2
    exit 64
    ;;
esac
