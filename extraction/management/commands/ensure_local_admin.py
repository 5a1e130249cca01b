"""`make run` calls this: a local admin user (and its API token) when there is none. DEBUG only.

The credentials are shown once and kept in VAR_DIR/local-admin.txt (mode 0600, this laptop's
throw-away admin); `--reset` gives the local admin a new password and API token when they are lost.
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

CREDENTIALS_FILE = "local-admin.txt"


def credentials_path():
    return settings.VAR_DIR / CREDENTIALS_FILE


class Command(BaseCommand):
    help = (
        "Create a local superuser with a random password if none exists (DEBUG only); "
        "--reset gives it a new password and API token."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--address",
            default="127.0.0.1:8000",
            help="where the service runs, for the admin link printed (make run: RUN_ADDR)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="new password and API token for the local admin (lost credentials)",
        )

    def handle(self, *args, username, reset, address, **options):
        self.address = address
        if not settings.DEBUG:
            raise CommandError(
                "Refusing to create a local admin with DJANGO_DEBUG off; "
                "use `manage.py createsuperuser` on a production system."
            )
        users = get_user_model().objects
        existing = users.filter(is_superuser=True).order_by("pk").first()
        if reset:
            user = users.filter(username=username, is_superuser=True).first() or existing
            if user is None:
                raise CommandError("No superuser to reset: run it without --reset first.")
            self._issue(user, "New credentials for the local admin")
            return
        if existing is not None:
            self._already(existing)
            return
        if users.filter(username=username).exists():
            raise CommandError(
                f"A user named {username!r} exists but is not a superuser; "
                "pass --username to create the local admin under another name."
            )
        with transaction.atomic():
            user = users.create_superuser(username=username, email="", password=None)
            self._issue(user, "Local admin created")

    @transaction.atomic
    def _issue(self, user, title):
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        path = self._keep(user.get_username(), password, token.key)
        self.stdout.write(
            self.style.SUCCESS(f"{title}:")
            + f"\n  username:  {user.get_username()}\n  password:  {password}"
            + f"\n  API token: {token.key}  (Authorization: Token …)"
            + f"\n  admin:     http://{self.address}/admin/"
            + f"\n  kept in {path} (readable by you only)"
        )

    def _keep(self, username, password, token):
        path = credentials_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # a new file gets mode 0600 whatever the old one had
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(
                "# The local admin of this laptop install (manage.py ensure_local_admin).\n"
                f"username={username}\npassword={password}\napi_token={token}\n"
            )
        return path

    def _already(self, user):
        name = user.get_username()
        path = credentials_path()
        kept = path.is_file() and f"username={name}\n" in path.read_text()
        where = (
            f"its password and API token are in {path} (readable by you only)"
            if kept
            else "its password and API token were shown when it was created"
        )
        self.stdout.write(
            f"A superuser already exists ({name}); not creating another: {where}. "
            f"Lost them? `python manage.py ensure_local_admin --reset` gives {name} a new "
            "password and API token."
        )
