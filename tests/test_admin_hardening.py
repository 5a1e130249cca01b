"""Content-Security-Policy on the admin and the API docs; admin login lockout (issue #17 §5)."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/"])
def test_pages_carry_a_policy_without_inline_scripts(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = csp(response)
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all("src=" in tag for tag in scripts), scripts


def test_swagger_ui_is_served_from_our_own_files(client):
    html = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources  # no CDN
    init = client.get("/api/docs/?script=")
    assert init.status_code == 200 and b"SwaggerUIBundle" in init.content


def test_the_dashboard_has_no_inline_script(admin_client):
    response = admin_client.get("/admin/dashboard/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert all("src=" in t for t in re.findall(r"<script\b[^>]*>", response.content.decode()))


def login(client: Client, password: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "boss", "password": password},
        REMOTE_ADDR="203.0.113.5",
    )


def test_repeated_failed_admin_logins_lock_the_account_from_that_address(
    django_user_model, settings
):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "right-password-1")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "wrong").status_code == 200  # the form again, with an error
    assert login(client, "wrong").status_code == 429
    locked = login(client, "right-password-1")
    assert locked.status_code == 429  # even the right password, until the cool-off
    # Another address is not locked out.
    other = Client().post(
        "/admin/login/?next=/admin/",
        {"username": "boss", "password": "right-password-1"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert other.status_code == 302


def test_a_successful_login_resets_the_count(django_user_model, settings):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "right-password-1")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "wrong")
    assert login(client, "right-password-1").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "wrong").status_code == 200
    assert login(client, "right-password-1").status_code == 302


def test_admin_pages_still_work_for_a_logged_in_user(admin_client):
    assert admin_client.get("/admin/").status_code == 200
    assert admin_client.get("/admin/extraction/extractionrun/").status_code == 200


def test_a_profile_schema_nested_too_deeply_is_a_form_error(admin_client):
    deep = "[" * 100_000 + "]" * 100_000
    response = admin_client.post(
        "/admin/extraction/extractionprofile/add/",
        {
            "slug": "deep",
            "name": "deep",
            "instructions": "x",
            "schema": deep,
            "default_model": "openai/gpt-4o-mini",
            "fallback_models": "[]",
            "checks": "[]",
        },
    )
    assert response.status_code == 200
    assert "nested too deeply" in response.content.decode()
