import pytest
from rest_framework.test import APIClient

# Fixture modules shared by several test packages.
pytest_plugins = [
    "tests.fixtures.gateways",
    "tests.fixtures.litellm",
    "tests.fixtures.simulator",
    "tests.fixtures.webhooks",
    "tests.cli",
]


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
def _fresh_model_catalog(request):
    """Each test reads the model catalog from its own database state, not a previous test's.

    A transactional test starts from a flushed database (the migration's rows gone): the catalog's
    seed is written again, as tests/extraction/pipeline.seeded_profile does for profiles.
    """
    from llm import catalog

    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        from llm.models import LLMModel
        from llm.seed import seed_models

        request.getfixturevalue("transactional_db")
        seed_models(LLMModel)
    catalog.invalidate()
    yield
    catalog.invalidate()
