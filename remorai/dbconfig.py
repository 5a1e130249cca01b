"""PostgreSQL settings from separate fields, for hosts that inject credentials one by one.

On ECS the RDS-generated secret's `username` and `password` fields arrive as DB_USER and
DB_PASSWORD, beside DB_HOST, DB_PORT and DB_NAME (deploy/remorai_deploy/stack.py). Building a
DATABASE_URL from them would need URL-quoting of the password; a dict needs none.
"""

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

FIELDS = ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_SSLMODE")


def database_from_parts(environ: Mapping[str, str]) -> dict | None:
    """Django DATABASES entry when DB_HOST is set and DATABASE_URL is not, else None.

    DB_NAME, DB_USER and DB_PASSWORD are then required (the error names the missing ones).
    """
    if environ.get("DATABASE_URL") or not environ.get("DB_HOST"):
        return None
    missing = [name for name in ("DB_NAME", "DB_USER", "DB_PASSWORD") if not environ.get(name)]
    if missing:
        raise ImproperlyConfigured(
            f"DB_HOST is set, so {', '.join(missing)} must be set too (or use DATABASE_URL)."
        )
    config = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": environ["DB_HOST"],
        "PORT": environ.get("DB_PORT") or "5432",
        "NAME": environ["DB_NAME"],
        "USER": environ["DB_USER"],
        "PASSWORD": environ["DB_PASSWORD"],
    }
    if environ.get("DB_SSLMODE"):
        config["OPTIONS"] = {"sslmode": environ["DB_SSLMODE"]}
    return config
