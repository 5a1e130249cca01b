"""Review page render: one PDF page to PNG with pypdfium2 + Pillow, as the review page asks for it.

    .venv/bin/python bench/review_render.py

Renders (no cache: what the first reviewer of a document waits for) the pages of a one-page
invoice, of the 50 dense pages of the IRS 1040-NR instructions, and of a 200-page document made
of those pages repeated, at the review page's width (1,000 px). Reports p50 / p95 / max ms per
page and the process's peak RSS: the time must not grow with the document's length (one page is
opened at a time). Goal (#10): ≤ 300 ms per page. A cached page is a cache read.
"""

import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PDFS = ROOT / "tests" / "fixtures" / "pdfs"


def _repeated(source: Path, pages: int, target: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    reader, writer = PdfReader(source), PdfWriter()
    for i in range(pages):
        writer.add_page(reader.pages[i % len(reader.pages)])
    with target.open("wb") as fh:
        writer.write(fh)
    return target


def _measure(label: str, path: Path, pages: list[int]) -> dict:
    from extraction.verification.render import render_page_png

    times, sizes = [], []
    for page in pages:
        started = time.perf_counter()
        png = render_page_png(str(path), page=page)
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(len(png))
    times.sort()
    row = {
        "document": label,
        "pages rendered": len(pages),
        "p50 ms": round(statistics.median(times), 1),
        "p95 ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
        "max ms": round(times[-1], 1),
        "PNG KiB (median)": round(statistics.median(sizes) / 1024),
        "peak RSS MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(row, flush=True)
    return row


def main() -> int:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remorai.settings")
    django.setup()
    dense = PDFS / "good" / "i1040nr.pdf"
    with tempfile.TemporaryDirectory() as tmp:
        long = _repeated(dense, 200, Path(tmp) / "200-pages.pdf")
        rows = [
            _measure("invoice (coolblue1, 1 page)", PDFS / "truth" / "coolblue1.pdf", [1] * 5),
            _measure("IRS 1040-NR instructions (50 dense pages)", dense, list(range(1, 51))),
            _measure("200 pages (1040-NR repeated)", long, list(range(1, 201, 5))),
        ]
    worst = max(row["p95 ms"] for row in rows)
    print(f"review render: worst p95 {worst} ms per page (goal <= 300 ms)")
    return 0 if worst <= 300 else 1


if __name__ == "__main__":
    raise SystemExit(main())
