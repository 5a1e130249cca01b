"""Evidence time and memory: the text layer built once, then evidence for an invoice answer.

    .venv/bin/python bench/evidence.py [PAGES ...]      (default: 10 200 2000)

Each size runs in a fresh process on a fresh SQLite database (or DATABASE_URL). The document is
made of real pages: 10 pages = the coolblue1 invoice repeated; more = the 50 dense pages of the
IRS 1040-NR instructions (≈6,000 characters a page) repeated. Reported per size:
- cold: text layer built (pypdfium2, every character's box) + evidence, ms per page;
- warm: evidence from the stored layer (what every later run pays), ms per page;
- peak Python allocations (tracemalloc) and the process's peak RSS (pdfium's C memory included);
- reference: pypdfium2 alone loading each page and its text (no boxes), same process.
Goal (#10): ≤ 20 ms per page, memory flat as pages grow.
"""

import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import common

ROOT = common.ROOT
PDFS = ROOT / "tests" / "fixtures" / "pdfs"
INVOICE = PDFS / "truth" / "coolblue1.pdf"
DENSE = PDFS / "good" / "i1040nr.pdf"
ANSWER = {
    "invoice_number": "993548900",
    "issue_date": "2014-04-19",
    "due_date": None,
    "seller_name": "Coolblue B.V.",
    "seller_vat_id": "NL810433941B01",
    "buyer_name": None,
    "currency": "EUR",
    "subtotal": 593.36,
    "tax_total": 124.61,
    "total": 717.97,
    "line_items": [
        {"description": "Apple iPad Air Wifi 16 GB Zilver", "quantity": 1, "unit_price": 399.0,
         "amount": 399.0},
        {"description": "Nintendo 3DS XL Wit + Blauw", "quantity": 1, "unit_price": 189.0,
         "amount": 189.0},
        {"description": "Mario Kart 7 3DS", "quantity": 1, "unit_price": 44.99, "amount": 44.99},
        {"description": "Not on any page", "quantity": 3, "unit_price": 12345.67,
         "amount": 37037.01},
    ],
}  # fmt: skip


def make_pdf(pages: int, path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    source = PdfReader(INVOICE if pages <= 10 else DENSE)
    writer = PdfWriter()
    for i in range(pages):
        writer.add_page(source.pages[i % len(source.pages)])
    with path.open("wb") as fh:
        writer.write(fh)


def measure(pages: int) -> dict:
    tmp = common.sqlite_django("bench-evidence-")
    from django.conf import settings
    from django.core.files.base import ContentFile

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp / "media")},
        },
    }
    import pypdfium2  # imported before the clock starts, like in a running worker
    from django.contrib.auth import get_user_model

    from extraction.models import Document
    from extraction.verification.evidence import evidence_compute, evidence_counts

    pdf = tmp / "doc.pdf"
    make_pdf(pages, pdf)
    # Reference in the same process: pypdfium2 alone loading each page and its text (no boxes).
    started, cpu = time.perf_counter(), time.process_time()
    document = pypdfium2.PdfDocument(str(pdf))
    for index in range(len(document)):
        page = document[index]
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        page.close()
    document.close()
    ref, ref_cpu = time.perf_counter() - started, time.process_time() - cpu
    owner = get_user_model().objects.create(username=f"bench-{pages}")
    doc = Document(owner=owner, original_name=pdf.name, sha256=f"{pages:064x}",
                   size_bytes=pdf.stat().st_size, page_count=pages)  # fmt: skip
    doc.file.save("doc.pdf", ContentFile(pdf.read_bytes()), save=False)
    doc.save()
    from extraction.verification.textlayer import text_layer_build

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Times first, without tracemalloc (it slows Python code several times over) ...
    started, cpu = time.perf_counter(), time.process_time()
    evidence = evidence_compute(document=doc, result=ANSWER)
    cold, cold_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    evidence_compute(document=doc, result=ANSWER)
    warm, warm_cpu = time.perf_counter() - started, time.process_time() - cpu
    # ... then the same two passes again under tracemalloc for their peak allocations.
    tracemalloc.start()
    text_layer_build(document=doc)
    evidence_compute(document=doc, result=ANSWER)
    cold_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    evidence_compute(document=doc, result=ANSWER)
    warm_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "pages": pages,
        "cold_ms_per_page": round(cold * 1000 / pages, 2),
        "warm_ms_per_page": round(warm * 1000 / pages, 2),
        "cold_cpu_ms_per_page": round(cold_cpu * 1000 / pages, 2),
        "warm_cpu_ms_per_page": round(warm_cpu * 1000 / pages, 2),
        "ref_ms_per_page": round(ref * 1000 / pages, 2),
        "ref_cpu_ms_per_page": round(ref_cpu * 1000 / pages, 2),
        "cold_total_s": round(cold, 2),
        "warm_total_s": round(warm, 3),
        "cold_peak_mib": round(cold_peak / 2**20, 2),
        "warm_peak_mib": round(warm_peak / 2**20, 2),
        "rss_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_growth_mib": round(
            (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1
        ),
        "counts": evidence_counts(evidence),
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(measure(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or [10, 200, 2000]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; ms per page wall (CPU)")
    print(
        "pages  pdfium text ms/p  cold ms/p        warm ms/p      peak py MiB cold/warm  "
        "RSS peak (+growth) MiB"
    )
    for pages in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(pages)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{r['pages']:>5}  {r['ref_ms_per_page']:>6} ({r['ref_cpu_ms_per_page']:>6})  "
            f"{r['cold_ms_per_page']:>6} ({r['cold_cpu_ms_per_page']:>6})  "
            f"{r['warm_ms_per_page']:>6} ({r['warm_cpu_ms_per_page']:>6})  "
            f"{r['cold_peak_mib']:>6} / {r['warm_peak_mib']:<6}  "
            f"{r['rss_peak_mib']} (+{r['rss_growth_mib']})  {r['counts']}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
