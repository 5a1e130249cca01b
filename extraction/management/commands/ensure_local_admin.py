"""`make run` calls this: a local admin user (and its API token) when there is none. DEBUG only."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create a local superuser with a random password if none exists (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Refusing to create a local admin with DJANGO_DEBUG off; "
                "use `manage.py createsuperuser` on a production system."
            )
        users = get_user_model().objects
        existing = users.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            self.stdout.write(
                f"A superuser already exists ({existing.get_username()}); not creating another."
            )
            return
        if users.filter(username=username).exists():
            raise CommandError(
                f"A user named {username!r} exists but is not a superuser; "
                "pass --username to create the local admin under another name."
            )
        password = secrets.token_urlsafe(12)
        user = users.create_superuser(username=username, email="", password=password)
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(
            self.style.SUCCESS("Local admin created (shown once):")
            + f"\n  username:  {username}\n  password:  {password}"
            + f"\n  API token: {token.key}  (Authorization: Token …)"
            + "\n  admin:     http://127.0.0.1:8000/admin/"
        )
