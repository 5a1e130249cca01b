"""A verified run over a real two-page invoice whose fields are printed on different pages."""

from extraction.verification.service import run_verification_compute
from tests.extraction.pipeline import make_document, seeded_profile
from tests.factories import RunFactory

from .truth import TRUTH

PDF = TRUTH / "free_fiber.pdf"
SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": ["string", "null"]},
        "plan": {"type": ["string", "null"]},  # printed on page 2 only
        "total": {"type": ["number", "null"]},
        "buyer_name": {"type": ["string", "null"]},
    },
}
RESULT = {
    "invoice_number": "562044387",
    "plan": "Free Haut Débit",
    "total": 29.99,
    "buyer_name": "Alexis Durand",  # invented: not printed anywhere
}


def verified_run(owner):
    document = make_document(owner, PDF)
    run = RunFactory(
        document=document, profile=seeded_profile("invoice"), schema=SCHEMA, result=RESULT
    )
    for field, value in run_verification_compute(run=run, result=RESULT).fields().items():
        setattr(run, field, value)
    run.save()
    return run
