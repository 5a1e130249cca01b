import pytest
from rest_framework.test import APIClient

# Fixture modules shared by several test packages.
pytest_plugins = ["tests.fixtures.litellm", "tests.fixtures.simulator", "tests.fixtures.webhooks"]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw-alice-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="pw-bob-123")


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def anon_api():
    return APIClient()


@pytest.fixture(autouse=True)
def _fresh_model_catalog():
    """Each test reads the model catalog from its own database state, not a previous test's."""
    from llm import catalog

    catalog.invalidate()
    yield
    catalog.invalidate()
