"""A catalog edit made in one process reaches a running qcluster without a restart: the worker's
copy of the catalog is at most LLM_CATALOG_CACHE_SECONDS old (measured here)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.db import transaction

from extraction.models import ExtractionRun
from extraction.services.runs import extraction_run_enqueue
from llm.catalog_services import llm_model_update
from llm.conf import DEFAULTS
from llm.models import LLMModel
from tests.extraction.pipeline import INVOICE_PDF, make_document, seeded_profile
from tests.extraction.test_qcluster import cluster, wait_finished  # noqa: F401

pytestmark = [pytest.mark.qcluster, pytest.mark.django_db(transaction=True)]

MODEL = "gemini/gemini-2.5-flash"  # the invoice profile's default: the direct route, no proxy
NEW_PRICE = Decimal("1000")  # USD per 1M tokens: a run's cost shows which price it saw


def run_once(document) -> ExtractionRun:
    run = extraction_run_enqueue(
        document=document, profile=seeded_profile("invoice"), trigger="command"
    )
    run = wait_finished(run.pk)
    assert run.status == ExtractionRun.Status.SUCCEEDED, (run.error_code, run.error_message)
    return run


def test_a_price_edit_reaches_the_worker_within_the_cache_time(cluster, simulator, user):  # noqa: F811
    cluster()
    document = make_document(user, INVOICE_PDF)
    before = run_once(document)  # the worker has loaded its copy of the catalog
    assert before.model_used == MODEL and before.cost_usd > 0

    with transaction.atomic():
        llm_model_update(
            model=LLMModel.objects.get(name=MODEL),
            price_input=NEW_PRICE,
            price_output=NEW_PRICE,
            price_document=NEW_PRICE,
        )
    edited = time.monotonic()
    delays = []
    while True:
        run = run_once(document)
        if run.cost_usd > before.cost_usd * 100:
            break
        delays.append(round(time.monotonic() - edited, 2))
        assert time.monotonic() - edited < DEFAULTS["LLM_CATALOG_CACHE_SECONDS"] + 20
    seen_after = time.monotonic() - edited
    print(f"\ncatalog edit seen by the worker after ≤ {seen_after:.1f} s (old price: {delays})")
    # the worker was not restarted, and saw the edit no later than its cache time + one run
    assert seen_after <= DEFAULTS["LLM_CATALOG_CACHE_SECONDS"] + 10
