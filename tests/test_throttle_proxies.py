"""Rotating X-Forwarded-For does not dodge the anonymous throttle (issue #17 §5, NUM_PROXIES)."""

import pytest
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_per_minute(monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": None})
    cache.clear()
    yield
    cache.clear()


def statuses(client, forwarded_for: list[str], remote: str = "203.0.113.9") -> list[int]:
    return [
        client.get("/api/schema/", HTTP_X_FORWARDED_FOR=xff, REMOTE_ADDR=remote).status_code
        for xff in forwarded_for
    ]


def test_without_proxies_the_header_is_ignored(client, settings, three_per_minute):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    rotating = [f"198.51.100.{i}" for i in range(5)]
    assert statuses(client, rotating) == [200, 200, 200, 429, 429]


def test_behind_one_proxy_only_its_entry_counts(client, settings, three_per_minute):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # The client forges the first entries; the ALB appends the address it saw (the same one).
    forged = [f"198.51.100.{i}, 192.0.2.7" for i in range(5)]
    assert statuses(client, forged, remote="10.0.0.5") == [200, 200, 200, 429, 429]
    # Another real client (another address appended by the ALB) has its own budget.
    assert statuses(client, ["192.0.2.8"], remote="10.0.0.5") == [200]


def test_the_default_trusts_no_proxy():
    from django.conf import settings

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
