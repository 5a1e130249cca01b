"""gunicorn settings of the image's web role (`gunicorn -c python:remorai.gunicorn_conf`).

- No control socket: gunicorn >= 25 opens one under $HOME/.gunicorn by default, and the image's
  user cannot write its home (/app), so every start logged "Control server error". Nothing uses
  `gunicornc` in a container.
- With LOG_FORMAT=json, gunicorn's own and access logs are JSON lines like the app's (one
  object per record, secrets masked); otherwise gunicorn's plain text.
"""

import os

control_socket_disable = True

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
