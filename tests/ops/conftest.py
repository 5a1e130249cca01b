"""Fixtures for the staff & ops tests: a staff user, a profile, one fake gateway (documents, runs
and remote copies come from tests/factories.py)."""

import pytest

from tests.factories import ProfileFactory
from tests.fixtures.gateways import FakeGateway


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser(username="ops", password="pw-ops-123")


@pytest.fixture
def profile(db):
    return ProfileFactory(slug="ops-invoice", name="Ops invoice")


@pytest.fixture
def fake_gateway(gateways):
    """One FakeGateway for every route and provider."""
    return gateways.use(FakeGateway())
