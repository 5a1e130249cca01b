"""Scoring extraction results field by field against ground truth or against another run.

Ground truth comes from files (`<stem>.json` beside `<stem>.pdf`, matched by the PDF's sha256),
from staff reviews (reviewed_result), or from a baseline (another model, or the inline transport).
Each field is compared exactly and after normalisation (numbers, dates, currency codes,
whitespace, case) and scored with precision, recall and F1:
- truth has a value, prediction equal (normalised)   -> true positive
- truth has a value, prediction another value         -> false positive and false negative
- truth has a value, prediction missing/null          -> false negative
- truth null, prediction has a value                  -> false positive
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import OuterRef, Q, Subquery

from extraction.models import Document, ExtractionProfile, ExtractionRun
from extraction.normalise import equivalent, normalise
from extraction.verification.fields import field_status

__all__ = ["compare_results", "equivalent", "normalise", "score_pairs"]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


# --- scoring -------------------------------------------------------------------------------------


@dataclass
class FieldScore:
    name: str
    compared: int = 0
    exact: int = 0
    normalised: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {
            "field": self.name,
            "compared": self.compared,
            "exact_match": self.exact / self.compared if self.compared else None,
            "normalised_match": self.normalised / self.compared if self.compared else None,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass
class Disagreement:
    document: str
    field: str
    expected: Any
    got: Any


@dataclass
class Pair:
    """One document's reference values and the prediction scored against them."""

    label: str
    truth: dict
    predicted: dict | None  # None: no run to score
    simulated: bool = False  # the prediction came from the provider simulator
    evidence: dict | None = None  # the predicting run's evidence, keyed by JSON path


@dataclass
class EvidenceScore:
    """How well evidence statuses predict correctness (values of runs that carry evidence)."""

    verified: int = 0  # values marked verified
    verified_correct: int = 0  # ... and equal to the truth
    wrong: int = 0  # values given (not null) that differ from the truth
    wrong_not_verified: int = 0  # ... and not marked verified

    def add(self, *, status: str, correct: bool, given: bool) -> None:
        if status == "verified":
            self.verified += 1
            self.verified_correct += correct
        if given and not correct:
            self.wrong += 1
            self.wrong_not_verified += status != "verified"

    def as_dict(self) -> dict:
        return {
            **self.__dict__,
            "verified_precision": _ratio(self.verified_correct, self.verified),
            "wrong_caught": _ratio(self.wrong_not_verified, self.wrong),
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Evaluation:
    mode: str
    evidence: EvidenceScore = field(default_factory=EvidenceScore)
    fields: dict[str, FieldScore] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    documents: int = 0
    missing_runs: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    simulated_runs: int = 0
    # truth keys no schema field takes -> in how many documents (not scored: map or rename them)
    ignored_truth_keys: dict[str, int] = field(default_factory=dict)

    @property
    def overall(self) -> FieldScore:
        total = FieldScore("overall")
        for s in self.fields.values():
            for attr in ("compared", "exact", "normalised", "tp", "fp", "fn"):
                setattr(total, attr, getattr(total, attr) + getattr(s, attr))
        return total

    def as_dict(self) -> dict:
        return {
            "mode": self.mode,
            "documents": self.documents,
            "fields": [s.as_dict() for s in self.fields.values()],
            "overall": self.overall.as_dict(),
            "disagreements": [d.__dict__ for d in self.disagreements],
            "missing_runs": self.missing_runs,
            "unmatched": self.unmatched,
            "simulated_runs": self.simulated_runs,
            "evidence": self.evidence.as_dict(),
            "ignored_truth_keys": self.ignored_truth_keys,
        }


def score_pairs(pairs: Iterable[Pair], *, fields: list[str] | None, mode: str) -> Evaluation:
    """Score each pair field by field; only fields present in the truth are scored."""
    evaluation = Evaluation(mode=mode)
    ignored: dict[str, int] = {}
    for pair in pairs:
        evaluation.documents += 1
        evaluation.simulated_runs += pair.simulated
        if pair.predicted is None:
            evaluation.missing_runs.append(pair.label)
        predicted = pair.predicted or {}
        for name, expected in pair.truth.items():
            if name.startswith("_"):  # a comment in a truth file
                continue
            if fields is not None and name not in fields:
                ignored[name] = ignored.get(name, 0) + 1
                continue
            got = predicted.get(name)
            score = evaluation.fields.setdefault(name, FieldScore(name))
            score.compared += 1
            exact = expected == got
            match = exact or equivalent(expected, got)
            score.exact += exact
            score.normalised += match
            if _empty(expected):
                if not _empty(got):
                    score.fp += 1
            elif match:
                score.tp += 1
            else:
                score.fn += 1
                if not _empty(got):
                    score.fp += 1
            if not match:
                evaluation.disagreements.append(Disagreement(pair.label, name, expected, got))
            if pair.evidence is not None:
                evaluation.evidence.add(
                    status=field_status(pair.evidence, name), correct=match, given=not _empty(got)
                )
    evaluation.fields = dict(sorted(evaluation.fields.items()))
    evaluation.ignored_truth_keys = dict(sorted(ignored.items()))
    return evaluation


def compare_results(left: dict | None, right: dict | None) -> list[dict]:
    """Field-by-field view of two results (for the admin's side-by-side page)."""
    left, right = left or {}, right or {}
    rows = []
    for name in sorted(set(left) | set(right)):
        a, b = left.get(name), right.get(name)
        rows.append(
            {
                "field": name,
                "left": a,
                "right": b,
                "exact": a == b,
                "normalised": equivalent(a, b),
            }
        )
    return rows


# --- selecting runs ------------------------------------------------------------------------------


def latest_succeeded_runs(
    *, profile: ExtractionProfile, model: str | None = None, transport: str | None = None
):
    """Selector: the latest succeeded run per document of `profile` (optionally of one model)."""
    runs = ExtractionRun.objects.filter(profile=profile, status=ExtractionRun.Status.SUCCEEDED)
    if model:
        runs = runs.filter(Q(model_used=model) | Q(requested_model=model))
    if transport:
        runs = runs.filter(transport=transport)
    latest = runs.filter(document=OuterRef("document")).order_by("-finished_at", "-created_at")
    return runs.filter(pk=Subquery(latest.values("pk")[:1])).select_related("document")


def _schema_fields(profile: ExtractionProfile) -> list[str] | None:
    properties = (profile.schema or {}).get("properties")
    return sorted(properties) if isinstance(properties, dict) else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _truth_object(path: Path) -> dict:
    data = json.loads(path.read_text())
    if isinstance(data, list):
        if len(data) != 1 or not isinstance(data[0], dict):
            raise ValueError(f"{path.name}: a list must hold exactly one object")
        data = data[0]
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected an object or a list holding one")
    return data


def truth_files(directory: Path) -> list[tuple[str, Path, Path]]:
    """(stem, json, pdf) for each `<stem>.json` with a `<stem>.pdf` beside it."""
    found = []
    for json_path in sorted(directory.glob("*.json")):
        pdf = json_path.with_suffix(".pdf")
        if pdf.is_file():
            found.append((json_path.stem, json_path, pdf))
    return found


def _renamed(truth: dict, mapping: Mapping[str, str]) -> dict:
    """The truth object with its keys renamed by `mapping` (truth key -> schema field)."""
    return {mapping.get(key, key): value for key, value in truth.items()}


def check_mapping(*, profile: ExtractionProfile, mapping: Mapping[str, str]) -> None:
    """ValueError naming a target that is not a field of the profile's schema."""
    fields = _schema_fields(profile)
    unknown = sorted(f for f in mapping.values() if fields is not None and f not in fields)
    if unknown:
        raise ValueError(
            f"not a field of profile {profile.slug}: {', '.join(unknown)} "
            f"(its fields: {', '.join(fields or [])})"
        )


def evaluate_against_truth_dir(
    *,
    profile: ExtractionProfile,
    directory: Path,
    model: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> Evaluation:
    """Score the latest runs of the PDFs in `directory` against their `<stem>.json`; `mapping`
    renames truth keys to schema fields (truth files named differently)."""
    mapping = dict(mapping or {})
    check_mapping(profile=profile, mapping=mapping)
    files = [(stem, json_path, _sha256(pdf)) for stem, json_path, pdf in truth_files(directory)]
    shas = {sha for _, _, sha in files}
    runs = {
        r.document.sha256: r
        for r in latest_succeeded_runs(profile=profile, model=model)
        .filter(document__sha256__in=shas)
        .order_by("created_at")
    }
    known = set(Document.objects.filter(sha256__in=shas).values_list("sha256", flat=True))
    pairs, unmatched = [], []
    for stem, json_path, sha in files:
        if sha not in known:
            unmatched.append(stem)
            continue
        run = runs.get(sha)
        pairs.append(
            Pair(
                stem,
                _renamed(_truth_object(json_path), mapping),
                run.result if run else None,
                simulated=bool(run and run.simulated),
                evidence=run.evidence if run else None,
            )
        )
    evaluation = score_pairs(pairs, fields=_schema_fields(profile), mode="truth-dir")
    evaluation.unmatched = unmatched
    return evaluation


def evaluate_against_reviews(*, profile: ExtractionProfile, model: str | None = None) -> Evaluation:
    reviewed = (
        ExtractionRun.objects.filter(profile=profile, reviewed_result__isnull=False)
        .order_by("document_id", "-reviewed_at")
        .values_list("document_id", "reviewed_result", "document__original_name")
    )
    truth: dict = {}
    for document_id, result, name in reviewed:
        truth.setdefault(document_id, (name, result))
    runs = {
        r.document_id: r
        for r in latest_succeeded_runs(profile=profile, model=model).filter(
            document_id__in=list(truth)
        )
    }
    pairs = [
        Pair(
            f"{name} ({document_id})",
            result or {},
            runs[document_id].result if document_id in runs else None,
            simulated=document_id in runs and runs[document_id].simulated,
            evidence=runs[document_id].evidence if document_id in runs else None,
        )
        for document_id, (name, result) in truth.items()
    ]
    return score_pairs(pairs, fields=_schema_fields(profile), mode="reviewed")


def evaluate_baseline_candidate(
    *,
    profile: ExtractionProfile,
    baseline_model: str | None,
    candidate_model: str | None,
    baseline_transport: str | None = None,
    candidate_transport: str | None = None,
) -> Evaluation:
    """The candidate's runs scored with the baseline's runs of the same documents as reference."""
    baseline = {
        r.document_id: (r.document.original_name, r.result)
        for r in latest_succeeded_runs(
            profile=profile, model=baseline_model, transport=baseline_transport
        )
    }
    candidate = {
        r.document_id: r
        for r in latest_succeeded_runs(
            profile=profile, model=candidate_model, transport=candidate_transport
        )
    }
    pairs = [
        Pair(
            f"{name} ({document_id})",
            result or {},
            candidate[document_id].result,
            simulated=candidate[document_id].simulated,
            evidence=candidate[document_id].evidence,
        )
        for document_id, (name, result) in baseline.items()
        if document_id in candidate
    ]
    evaluation = score_pairs(pairs, fields=_schema_fields(profile), mode="baseline-candidate")
    evaluation.unmatched = [
        f"{name} ({document_id})"
        for document_id, (name, _) in baseline.items()
        if document_id not in candidate
    ]
    return evaluation
