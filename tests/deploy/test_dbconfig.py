import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from remorai.dbconfig import database_from_parts

REPO = Path(__file__).resolve().parents[2]
PARTS = {
    "DB_HOST": "db.internal",
    "DB_PORT": "5433",
    "DB_NAME": "remorai",
    "DB_USER": "remorai",
    "DB_PASSWORD": "p@ss:w/rd?#",
}


def test_parts_build_a_postgres_connection_without_quoting_the_password():
    config = database_from_parts({**PARTS, "DB_SSLMODE": "require"})
    assert config == {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "db.internal",
        "PORT": "5433",
        "NAME": "remorai",
        "USER": "remorai",
        "PASSWORD": "p@ss:w/rd?#",
        "OPTIONS": {"sslmode": "require"},
    }


def test_database_url_wins_and_no_host_means_no_parts():
    assert database_from_parts({**PARTS, "DATABASE_URL": "postgres://x@y/z"}) is None
    assert database_from_parts({"DB_USER": "u"}) is None


def test_missing_part_is_named():
    with pytest.raises(ImproperlyConfigured, match="DB_PASSWORD"):
        database_from_parts({k: v for k, v in PARTS.items() if k != "DB_PASSWORD"})


def test_settings_use_the_parts_when_database_url_is_unset():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PARTS, DJANGO_SETTINGS_MODULE="remorai.settings")
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; "
        "print(json.dumps({k: d[k] for k in ('ENGINE', 'HOST', 'PORT', 'PASSWORD')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "db.internal",
        "PORT": "5433",
        "PASSWORD": "p@ss:w/rd?#",
    }
