"""A profile's long-document settings (#14 §1): declared per top-level array, validated at save
with clear errors, shown by the API and the admin, snapshotted on each run."""

import json

import pytest

from extraction import segmenting
from extraction.errors import InvalidSegmenting
from extraction.models import ExtractionProfile
from extraction.profile_seeds import INVOICE_SCHEMA, SUMMARY_SCHEMA
from extraction.services.profiles import extraction_profile_create, extraction_profile_update
from extraction.services.runs import extraction_run_enqueue
from tests.extraction.pipeline import make_document, seeded_profile


def test_an_empty_declaration_segments_nothing():
    settings = segmenting.parse({}, schema=INVOICE_SCHEMA)
    assert not settings.segmented and not settings.map_reduce
    assert not settings.needs_segments(10_000)


def test_the_seeded_invoice_segments_its_line_items_by_ten_pages_plus_one():
    from extraction.profile_seeds import SEGMENTING

    settings = segmenting.parse(SEGMENTING["invoice"], schema=INVOICE_SCHEMA)
    assert [(a.name, a.pages, a.overlap) for a in settings.arrays] == [("line_items", 10, 1)]
    assert (settings.first_pages, settings.last_pages) == (2, 1)
    assert not settings.needs_segments(10) and settings.needs_segments(11)
    summary = segmenting.parse(SEGMENTING["summary"], schema=SUMMARY_SCHEMA)
    assert summary.map_reduce and summary.map_reduce_pages == 50


def test_whole_arrays_are_not_segmented():
    settings = segmenting.parse(
        {"arrays": {"line_items": {"mode": "whole"}}}, schema=INVOICE_SCHEMA
    )
    assert not settings.segmented


@pytest.mark.parametrize(
    ("value", "message", "path"),
    [
        ({"arrays": {"lines": {}}}, "'lines' is not a top-level array", "arrays/lines"),
        ({"arrays": {"total": {}}}, "'total' is not a top-level array", "arrays/total"),
        (
            {"arrays": {"line_items": {"mode": "pages"}}},
            "'whole' or 'segmented'",
            "arrays/line_items",
        ),
        ({"arrays": {"line_items": {"pages": 0}}}, "from 1 to 100", "arrays/line_items/pages"),
        ({"arrays": {"line_items": {"pages": "10"}}}, "whole number", "arrays/line_items/pages"),
        (
            {"arrays": {"line_items": {"pages": 5, "overlap": 5}}},
            "from 0 to 4",
            "arrays/line_items/overlap",
        ),
        (
            {"arrays": {"line_items": {"pages": 100, "overlap": 1}}},
            "within 100",
            "arrays/line_items",
        ),
        ({"arrays": {"line_items": {"size": 10}}}, "unknown key 'size'", "arrays/line_items/size"),
        ({"segments": 10}, "unknown key 'segments'", "segmenting/segments"),
        ({"other_fields": {"first_pages": 0}}, "from 1 to 50", "other_fields/first_pages"),
        (
            {"arrays": {"line_items": {}}, "map_reduce": {"pages": 50}},
            "map_reduce is for profiles without segmented arrays",
            "map_reduce",
        ),
        ([], "must be a JSON object", "segmenting"),
        ({"arrays": 5}, "arrays must be a JSON object", "arrays"),
        ({"arrays": ["line_items"]}, "arrays must be a JSON object", "arrays"),
    ],
)
def test_invalid_declarations_are_refused_with_their_path(value, message, path):
    with pytest.raises(InvalidSegmenting) as caught:
        segmenting.parse(value, schema=INVOICE_SCHEMA)
    assert message in caught.value.detail
    assert caught.value.fields["path"] == path
    assert caught.value.status_code == 400


@pytest.mark.django_db
def test_profile_save_validates_the_declaration_against_its_schema():
    with pytest.raises(InvalidSegmenting):
        extraction_profile_create(
            slug="bad",
            name="Bad",
            instructions="x",
            schema=SUMMARY_SCHEMA,
            default_model="openai/gpt-4o",
            segmenting={"arrays": {"line_items": {}}},
        )
    assert not ExtractionProfile.objects.filter(slug="bad").exists()
    profile = seeded_profile("invoice")
    with pytest.raises(InvalidSegmenting):
        extraction_profile_update(profile=profile, segmenting={"arrays": {"nope": {}}})
    changed = extraction_profile_update(
        profile=profile, segmenting={"arrays": {"line_items": {"pages": 20, "overlap": 2}}}
    )
    assert changed.version == profile.version + 1
    assert changed.segmenting["arrays"]["line_items"]["pages"] == 20


@pytest.mark.django_db
def test_the_api_shows_the_setting_and_runs_keep_a_snapshot(api, user):
    profile = seeded_profile("invoice")
    listed = {p["slug"]: p for p in api.get("/api/profiles/").json()}
    assert listed["invoice"]["segmenting"] == {
        "arrays": {"line_items": {"mode": "segmented", "pages": 10, "overlap": 1}}
    }
    run = extraction_run_enqueue(document=make_document(user), profile=profile, trigger="api")
    extraction_profile_update(profile=profile, segmenting={})
    run.refresh_from_db()
    assert run.segmenting["arrays"]["line_items"]["pages"] == 10


@pytest.mark.django_db
def test_the_admin_form_refuses_an_invalid_declaration_and_saves_a_valid_one(admin_client):
    seeded_profile("invoice")
    form = {
        "slug": "statement",
        "name": "Statement",
        "instructions": "x",
        "schema": json.dumps(INVOICE_SCHEMA),
        "default_model": "openai/gpt-4o-mini",
        "fallback_models": "[]",
        "checks": "[]",
        "segmenting": json.dumps({"arrays": {"line_items": {"pages": 500}}}),
    }
    response = admin_client.post("/admin/extraction/extractionprofile/add/", form)
    assert response.status_code == 200
    assert (
        "arrays/line_items/pages must be a whole number from 1 to 100" in response.content.decode()
    )
    form["segmenting"] = json.dumps({"arrays": 5})  # not an object: a form error, not a 500
    response = admin_client.post("/admin/extraction/extractionprofile/add/", form)
    assert response.status_code == 200
    assert "arrays must be a JSON object" in response.content.decode()
    assert not ExtractionProfile.objects.filter(slug="statement").exists()
    form["segmenting"] = json.dumps({"arrays": {"line_items": {"pages": 5, "overlap": 1}}})
    response = admin_client.post("/admin/extraction/extractionprofile/add/", form)
    assert response.status_code == 302
    saved = ExtractionProfile.objects.get(slug="statement")
    assert saved.segmenting == {"arrays": {"line_items": {"pages": 5, "overlap": 1}}}
    page = admin_client.get(f"/admin/extraction/extractionprofile/{saved.pk}/change/")
    assert "segmenting" in page.content.decode()
