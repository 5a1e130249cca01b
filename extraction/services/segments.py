"""Long documents (#14): a run answered in segments instead of one call.

- segmented arrays: each segmented array is asked per page segment (a real sub-PDF, its own
  remote copies), the other fields in one call (the whole document when it fits a model, else its
  first and last pages); the items are merged in page order, the overlap's repeats dropped;
- map-reduce (profiles without segmented arrays, documents over every model's limits): the whole
  schema per segment, then one combining call over those answers.

`extractor(run=…)` gives the callable execution uses in place of llm.service.extract; it keeps the
single call whenever that is enough (a document within one segment, or within the models'
limits). The run succeeds only when every call did (segment_runner).
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema

from extraction import segment_plan as plan
from extraction import segmenting
from extraction.pdfcut import Cutter
from extraction.services.files import DocumentFileCache
from extraction.services.segment_runner import Job, RunThreadCalls, ThreadFiles, run_jobs
from extraction.textpdf import lines_per_page, write_text_pdf
from llm.errors import NoRouteFits, SchemaViolation
from llm.service import ExtractionOutcome
from llm.types import Generation, Usage


@dataclass(frozen=True)
class SegmentedOutcome(ExtractionOutcome):
    """One outcome for the run, plus how it was segmented (ExtractionRun.segments)."""

    segments: dict = field(default_factory=dict)


def applies(run) -> bool:
    """Whether the run's profile can answer in segments (segmented arrays, or map-reduce)."""
    settings = segmenting.of_run(run)
    return settings.segmented or settings.map_reduce


def extractor(*, run, token, extract: Callable) -> Callable[..., Any]:
    """The run's extract(): `extract` (llm.service.extract's signature) once when that is
    enough, else in segments."""
    settings = segmenting.of_run(run)

    def answer(**call):
        segmented = _Segmented(run=run, token=token, extract=extract, settings=settings, call=call)
        if settings.segmented and settings.needs_segments(call["page_count"]):
            return segmented.arrays()
        try:
            return extract(**call)
        except NoRouteFits:
            if settings.segmented:
                return segmented.arrays()
            if settings.map_reduce:
                return segmented.map_reduce()
            raise

    return answer


class _Segmented:
    def __init__(self, *, run, token, extract, settings, call: dict):
        self.run, self.token, self.extract, self.settings = run, token, extract, settings
        self.call = call
        self.total = call["page_count"]
        self.calls = RunThreadCalls()
        self.record = call["on_attempt"]
        self.lease_continues = self.calls.bound(call["should_continue"])
        self.stem = Path(call["filename"]).stem
        self.files_made = itertools.count(1)

    # --- one call ---------------------------------------------------------------------------

    def ask(self, keep_going, *, path: Path, pages: int, instructions, schema, **options):
        """One llm extract() from a worker thread (`options`: filename, files, transport;
        `label`: the pages sent, named by its attempt rows)."""
        files = options.get("files", self.call["files"])
        label = options.pop("label", "")
        record = getattr(self.record, "for_pages", None)
        on_attempt = record(label) if record and label else self.record
        return self.extract(
            **{
                **self.call,
                **options,
                "path": path,
                "page_count": pages,
                "size_bytes": path.stat().st_size,
                "instructions": instructions,
                "schema": schema,
                "files": ThreadFiles(files, self.calls),
                "on_attempt": self.calls.bound(on_attempt),
                "should_continue": lambda: keep_going() and self.lease_continues(),
            }
        )

    def ask_pages(self, keep_going, cutter: Cutter, pages: list[int], instructions, schema):
        """One call over a sub-PDF of `pages`, its remote copies cached by page range."""
        label = plan.spans(pages).replace(" ", "")
        # Its own file: two calls may ask the same pages (a 1-page document's segment and head).
        path = cutter.cut(pages, f"{next(self.files_made)}.pages-{label}.pdf")
        try:
            return self.ask(
                keep_going,
                path=path,
                pages=len(pages),
                instructions=instructions,
                schema=schema,
                filename=f"{self.stem}.pages-{label}.pdf",
                label=label,
                files=DocumentFileCache(self.run.document, lease=self.token, pages=label),
            )
        finally:
            path.unlink(missing_ok=True)

    # --- segmented arrays -------------------------------------------------------------------

    def arrays(self) -> SegmentedOutcome:
        schema, names = self.run.schema, self.settings.names
        asked = {a.name: plan.array_schema(schema, a.name) for a in self.settings.arrays}
        other_schema = plan.other_fields_schema(schema, names)
        # A schema of segmented arrays only has no other fields to ask for.
        jobs = [Job("other")] if other_schema["properties"] else []
        jobs += [
            Job("array", pages=pages, name=a.name, splittable=True)
            for a in self.settings.arrays
            for pages in plan.ranges(self.total, pages=a.pages, overlap=a.overlap)
        ]
        head_tail: list[int] = []

        def call(job: Job, keep_going):
            if job.kind == "array":
                array_schema, page_field = asked[job.name]
                text = plan.array_instructions(
                    self.run.instructions,
                    name=job.name,
                    pages=job.pages,
                    total=self.total,
                    page=page_field,
                )
                return self.ask_pages(keep_going, cutter, job.pages.numbers, text, array_schema)
            other = other_schema
            text = plan.other_fields_instructions(
                self.run.instructions, arrays=names, pages=None, total=self.total
            )
            try:  # the whole document, when a model takes it
                return self.ask(
                    keep_going,
                    path=self.call["path"],
                    pages=self.total,
                    instructions=text,
                    schema=other,
                )
            except NoRouteFits:
                head_tail[:] = plan.head_and_tail(
                    self.total,
                    first_pages=self.settings.first_pages,
                    last_pages=self.settings.last_pages,
                )
            text = plan.other_fields_instructions(
                self.run.instructions, arrays=names, pages=head_tail, total=self.total
            )
            return self.ask_pages(keep_going, cutter, head_tail, text, other)

        with tempfile.TemporaryDirectory(prefix="remorai-segments-") as tmp:
            cutter = Cutter(self.call["path"], Path(tmp))
            results = run_jobs(jobs, call, calls=self.calls)
        main = next((o for j, o in results.answers if j.kind == "other"), None)
        merged, item_pages, summary = {}, {}, []
        for name, (_, page_field) in asked.items():
            answers = [(j, o) for j, o in results.answers if j.kind == "array" and j.name == name]
            pieces = [
                plan.piece_of(j.pages, o.data.get(name) or [], page_field) for j, o in answers
            ]
            merged[name], item_pages[name], dropped = plan.merge(pieces)
            summary.append(
                {"array": name, "items": len(merged[name]), "overlap_repeats_dropped": dropped}
            )
        data = plan.assemble(schema, main.data if main else {}, merged)
        _validate(data, schema)
        segments = {
            "mode": "segmented",
            "arrays": summary,
            "calls": _calls(results.answers),
            "split": results.splits,
            "other_fields_pages": head_tail or ("all" if main else "none"),
            "item_pages": item_pages,
        }
        return _outcome(data, main or results.answers[0][1], results.answers, segments)

    # --- map-reduce -------------------------------------------------------------------------

    def map_reduce(self) -> SegmentedOutcome:
        schema = self.run.schema
        pieces = plan.ranges(self.total, pages=self.settings.map_reduce_pages)
        jobs = [Job("map", pages=p, splittable=True) for p in pieces]

        def call(job: Job, keep_going):
            text = plan.map_instructions(self.run.instructions, pages=job.pages, total=self.total)
            return self.ask_pages(keep_going, cutter, job.pages.numbers, text, schema)

        with tempfile.TemporaryDirectory(prefix="remorai-segments-") as tmp:
            cutter = Cutter(self.call["path"], Path(tmp))
            results = run_jobs(jobs, call, calls=self.calls)
            answers = sorted(results.answers, key=lambda pair: pair[0].pages)
            summaries = Path(tmp) / "segment-answers.pdf"
            write_text_pdf(summaries, _answer_pages(answers))

            def combine(job: Job, keep_going):
                # Sent inline: a file made for one call is not kept as a remote copy.
                return self.ask(
                    keep_going,
                    path=summaries,
                    pages=_page_count(summaries),
                    instructions=plan.reduce_instructions(
                        self.run.instructions, parts=len(answers), total=self.total
                    ),
                    schema=schema,
                    filename=f"{self.stem}.segment-answers.pdf",
                    transport="inline",
                )

            reduced = run_jobs([Job("reduce")], combine, calls=self.calls)
        final = reduced.answers[0][1]
        segments = {
            "mode": "map_reduce",
            "calls": _calls(answers + reduced.answers),
            "split": results.splits,
        }
        return _outcome(final.data, final, answers + reduced.answers, segments)


def _page_count(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def _answer_pages(answers) -> list[list[str]]:
    """Each segment's answer as "field: value" lines, a page per segment (more if it is long)."""
    pages = []
    per_page = lines_per_page()
    for job, outcome in answers:
        lines = [f"Pages {job.pages.first}-{job.pages.last}"] + list(_lines(outcome.data))
        pages += [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    return pages


def _lines(value, prefix: str = ""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _lines(inner, f"{prefix} {key}".strip())
    elif isinstance(value, list):
        for inner in value:
            yield from _lines(inner, prefix)
    elif value is not None:
        text = value if isinstance(value, str) else json.dumps(value)
        yield f"{prefix}: {' '.join(text.split())}"


def _validate(data, schema: dict) -> None:
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        raise SchemaViolation(f"The merged answer breaks the schema: {exc.message}") from None


def _calls(answers) -> list[dict]:
    return [
        {
            "kind": job.kind,
            "array": job.name or None,
            "pages": job.pages.label if job.pages else None,
            "model": outcome.model_used,
            "route": outcome.route,
        }
        for job, outcome in sorted(answers, key=lambda pair: pair[0].pages or plan.Pages(0, 0))
    ]


def _outcome(data, main, answers, segments: dict) -> SegmentedOutcome:
    """One outcome for the run: the main call's route and model, every call's usage summed."""
    generations = [outcome.generation for _, outcome in answers]
    usage = Usage(
        **{
            name: _sum(getattr(g.usage, name) for g in generations)
            for name in ("input_tokens", "output_tokens", "document_tokens")
        }
    )
    costs = [g.cost_usd for g in generations if g.cost_usd is not None]
    sources = Counter(g.cost_source for g in generations if g.cost_source)
    generation = Generation(
        text=json.dumps(data, ensure_ascii=False),
        model=main.generation.model,
        usage=usage,
        data=data,
        cost_usd=sum(costs, Decimal(0)) if costs else None,
        cost_source=sources.most_common(1)[0][0] if sources else "",
        simulated=any(g.simulated for g in generations),
    )
    return SegmentedOutcome(
        generation=generation,
        data=data,
        route=main.route,
        provider=main.provider,
        model_used=main.model_used,
        attempts=tuple(a for _, outcome in answers for a in outcome.attempts),
        repaired=any(outcome.repaired for _, outcome in answers),
        segments=segments,
    )


def _sum(values):
    values = [v for v in values if v is not None]
    return sum(values) if values else None
