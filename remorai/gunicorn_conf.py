"""gunicorn settings of the image's web role (`gunicorn -c python:remorai.gunicorn_conf`).

- No control socket: gunicorn >= 25 opens one under $HOME/.gunicorn by default, and the image's
  user cannot write its home (/app), so every start logged "Control server error". Nothing uses
  `gunicornc` in a container.
- GUNICORN_THREADS threads per gthread worker (8), and a worker takes a connection only when it
  has a thread free for it (`worker_connections = threads`): the rest wait in the listen backlog
  for whichever worker frees a thread first. Without the cap one worker could accept a burst of
  slow uploads beyond its threads, and a health check queued behind them timed out while the
  other workers sat idle (tests/reliability/test_slow_clients.py, seen on CI).
- No keep-alive (`keepalive = 0`): an idle kept-alive connection would hold one of those slots.
  Behind the ALB this costs a TCP handshake per request inside the VPC, and it removes the
  known 502 of a target closing a kept-alive connection the load balancer is about to reuse.
- With LOG_FORMAT=json, gunicorn's own and access logs are JSON lines like the app's (one
  object per record, secrets masked); otherwise gunicorn's plain text.
"""

import os

control_socket_disable = True
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
worker_connections = threads
keepalive = 0

if os.environ.get("LOG_FORMAT", "text").lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "remorai.logging.RedactSecretsFilter"}},
        "formatters": {"json": {"()": "remorai.logging.JsonFormatter"}},
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["redact"],
                "stream": "ext://sys.stderr",
            },
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["redact"],
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
        "root": {"level": "INFO", "handlers": []},
    }
