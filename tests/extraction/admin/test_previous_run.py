"""'Compare with previous run' = the latest earlier succeeded run of the same document and
profile, never a newer one nor another profile's."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from extraction import selectors
from extraction.models import ExtractionProfile
from tests.factories import SIMPLE_SCHEMA, DocumentFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(staff, profile):
    other_profile = ExtractionProfile.objects.create(
        slug="ops-other",
        name="Other",
        instructions="x",
        schema=SIMPLE_SCHEMA,
        default_model="gemini/gemini-2.5-flash",
    )
    doc = DocumentFactory(owner=staff)
    start = timezone.now() - timedelta(hours=5)

    def run(hours, **kwargs):
        made = RunFactory(
            document=doc, profile=kwargs.pop("p", profile), result={"amount": hours}, **kwargs
        )
        made.created_at = start + timedelta(hours=hours)
        made.save(update_fields=["created_at"])
        return made

    return {
        "first": run(0),
        "failed": run(1, status="failed"),
        "other_profile": run(2, p=other_profile),
        "second": run(3),
        "third": run(4),
    }


def test_previous_is_the_latest_earlier_succeeded_run_of_the_same_profile(history):
    previous = selectors.run_previous_succeeded
    assert previous(run=history["first"]) is None
    assert previous(run=history["second"]) == history["first"]
    assert previous(run=history["third"]) == history["second"]
    assert previous(run=history["other_profile"]) is None


def test_the_run_page_links_the_older_run_on_the_left(admin_client, history):
    first, second = history["first"], history["second"]
    page = admin_client.get(
        reverse("admin:extraction_extractionrun_change", args=[second.pk])
    ).content.decode()
    assert f"?left={first.pk}&amp;right={second.pk}" in page
    oldest = admin_client.get(
        reverse("admin:extraction_extractionrun_change", args=[first.pk])
    ).content.decode()
    assert "Compare with previous run" not in oldest
