"""extract(): one structured extraction from a PDF, over the planned routes, under the policy.

For each route of the plan (proxy(model), direct(model), then each fallback): the remote copy
from the caller's FileCache (uploaded when missing; the inline transport uploads nothing), one
generation with the JSON schema, validation, and one repair turn when the answer is unusable
(invalid JSON, schema violation). An answer cut at the output token limit is never accepted nor
repaired: it raises OutputTruncated (run error `output_truncated`) suggesting segmenting.
A remote file found gone is marked so and uploaded again, once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from llm import policy
from llm.conf import conf
from llm.errors import (
    BadOutput,
    Cancelled,
    ConfigurationError,
    DeadlineExceeded,
    FileGone,
    LLMError,
    NoRouteAvailable,
    OutputTruncated,
    RetryLater,
    RouteUnavailable,
)
from llm.gateways import get_gateway
from llm.gateways.base import Gateway
from llm.routing import Route, plan
from llm.types import Attempt, Generation, GenerationRequest, RemoteFile
from llm.validation import repair_followups, validate_generation
from remorai.logging import redact

logger = logging.getLogger(__name__)


class FileCache(Protocol):  # implemented by extraction over UploadedFile
    def get_or_upload(
        self, *, route: str, provider: str, model: str, upload: Callable[[], RemoteFile]
    ) -> RemoteFile: ...

    def mark_gone(self, *, route: str, provider: str, remote_id: str) -> None: ...


@dataclass(frozen=True)
class GivenAnswer:
    route: str  # the route it was made on ("direct", "proxy")
    generation: Generation  # priced already (e.g. at the batch price)


@dataclass(frozen=True)
class ExtractionOutcome:
    generation: Generation
    data: Any
    route: str
    provider: str
    model_used: str
    attempts: tuple[Attempt, ...]
    repaired: bool


def _ignore(attempt: Attempt) -> None:
    return None


def _always() -> bool:
    return True


def extract(
    *,
    path: Path,
    filename: str,
    page_count: int,
    size_bytes: int,
    instructions: str,
    schema: dict,
    model: str,
    fallback_models: Sequence[str] = (),
    transport: str = "file",
    files: FileCache,
    on_attempt: Callable[[Attempt], None] = _ignore,
    should_continue: Callable[[], bool] = _always,
    deadline: float | None = None,
    max_output_tokens: int | None = None,
    answer: GivenAnswer | None = None,
) -> ExtractionOutcome:
    """Structured data from the PDF at `path`, valid against `schema`.

    `answer`: the first generation was already made elsewhere (an item of a provider batch job):
    it takes the place of the first call on its route, tried first, and goes through the same
    validation, repair turn (a normal call) and fallbacks as one made here.

    `deadline` is an epoch time (time.time()). Raises (each with `.attempts`): NoRouteFits,
    UnknownModel, RetryLater, RequestRejected/QuotaExceeded (no fallback), BadOutput (after one
    repair turn, raw text kept; OutputTruncated at once), Cancelled, DeadlineExceeded,
    NoRouteAvailable. `max_output_tokens` caps each answer (default: GenerationRequest's).
    """
    attempts: list[Attempt] = []

    def record(attempt: Attempt) -> None:
        attempts.append(attempt)
        on_attempt(attempt)

    try:
        routes = plan(
            model,
            list(fallback_models) or list(conf.LLM_DEFAULT_FALLBACKS),
            page_count,
            size_bytes,
            transport=transport,
        )
        run = _Run(
            path=path,
            filename=filename,
            instructions=instructions,
            schema=schema,
            transport=transport,
            files=files,
            record=record,
            should_continue=should_continue,
            deadline=deadline,
            max_output_tokens=max_output_tokens,
            answer=answer,
        )
        if answer is not None:  # its own route first (when the plan has it)
            routes.sort(key=lambda r: (r.route, r.model) != (answer.route, model))
        outcome = run.over(routes)
    except LLMError as exc:
        exc.attempts = tuple(attempts)
        raise
    return replace(outcome, attempts=tuple(attempts))


@dataclass
class _Run:
    path: Path
    filename: str
    instructions: str
    schema: dict
    transport: str
    files: FileCache
    record: Callable[[Attempt], None]
    should_continue: Callable[[], bool]
    deadline: float | None
    max_output_tokens: int | None = None
    answer: GivenAnswer | None = None  # used (once) in place of the first generation
    remote: RemoteFile | None = None  # the current route's remote copy
    reuploaded: bool = False

    def checkpoint(self) -> None:
        if not self.should_continue():
            raise Cancelled("The extraction was cancelled.")
        if self.deadline is not None and time.time() >= self.deadline:
            raise DeadlineExceeded("The extraction ran out of time.")

    def over(self, routes: list[Route]) -> ExtractionOutcome:
        failures: list[str] = []
        retry_later: RetryLater | None = None
        for route in routes:
            self.checkpoint()
            try:
                return self.on_route(route)
            except RetryLater as exc:
                failures.append(f"{route}: {exc.detail}")
                if retry_later is None or exc.at < retry_later.at:
                    retry_later = exc
            except (RouteUnavailable, ConfigurationError) as exc:
                failures.append(f"{route}: {redact(exc.detail)}")
                if isinstance(exc, ConfigurationError):
                    logger.error("Route %s is misconfigured: %s", route, redact(exc.detail))
        self.checkpoint()
        if retry_later is not None:
            raise RetryLater(retry_later.detail, at=retry_later.at)
        raise NoRouteAvailable("Every route failed: " + " | ".join(failures), routes=failures)

    def call(self, route: Route, operation: str, fn: Callable[[float], Any]) -> Any:
        return policy.call(
            route,
            operation,
            fn,
            on_attempt=self.record,
            deadline=self.deadline,
            should_continue=self.should_continue,
        )

    def on_route(self, route: Route) -> ExtractionOutcome:
        gateway = get_gateway(route.route, route.provider)
        self.remote, self.reuploaded = None, False
        if self.answer is None:  # a given answer needs the file only for a repair turn
            self.remote = self.remote_file(route, gateway)
        request = GenerationRequest(
            model=route.model,
            instructions=self.instructions,
            schema=self.schema,
            transport="inline" if self.transport == "inline" else "file",
            file=self.remote,
            path=self.path if self.transport == "inline" else None,
            filename=self.filename,
        )
        if self.max_output_tokens:
            request = replace(request, max_output_tokens=self.max_output_tokens)
        repaired = False
        try:
            generation = self.generate(route, gateway, request, "generate")
        except OutputTruncated as cut:
            raise truncated_error(cut, request.max_output_tokens) from None
        except BadOutput as first:
            self.checkpoint()
            if self.remote is None:
                self.remote = self.remote_file(route, gateway)
            request = replace(request, file=self.remote, followups=repair_followups(first))
            try:
                generation = self.generate(route, gateway, request, "repair")
            except OutputTruncated as cut:
                raise truncated_error(cut, request.max_output_tokens) from None
            except BadOutput as second:
                raise type(second)(
                    f"{second.detail} (after one repair turn)",
                    raw_text=second.raw_text,
                    errors=second.errors,
                ) from None
            repaired = True
        return ExtractionOutcome(
            generation=generation,  # priced by the policy
            data=generation.data,
            route=route.route,
            provider=route.provider,
            model_used=route.model,
            attempts=(),
            repaired=repaired,
        )

    def remote_file(self, route: Route, gateway: Gateway) -> RemoteFile | None:
        if self.transport == "inline":
            return None

        def upload() -> RemoteFile:
            return self.call(
                route,
                "upload",
                lambda timeout: gateway.upload(
                    self.path, self.filename, "application/pdf", model=route.model
                ),
            )

        return self.files.get_or_upload(
            route=route.route, provider=route.provider, model=route.model, upload=upload
        )

    def generate(
        self, route: Route, gateway: Gateway, request: GenerationRequest, operation: str
    ) -> Generation:
        """One generation; a remote file found gone is marked and uploaded again, once per
        route (self.remote follows the fresh copy, so the repair turn uses it too)."""
        for again in (False, True):
            self.checkpoint()
            try:
                generation = self.call(
                    route,
                    operation,
                    lambda timeout, req=request: self.generate_valid(gateway, req, timeout),
                )
                return generation
            except FileGone as exc:
                remote = self.remote
                if remote is None or again or self.reuploaded:
                    raise RouteUnavailable(
                        f"{route}: the remote file is gone again after a fresh upload.",
                        reason="file_gone",
                    ) from exc
                logger.info("Remote file %s on %s is gone; uploading again.", remote.id, route)
                self.files.mark_gone(
                    route=route.route, provider=route.provider, remote_id=remote.id
                )
                self.checkpoint()
                self.remote = self.remote_file(route, gateway)
                self.reuploaded = True
                request = replace(request, file=self.remote)
        raise AssertionError("unreachable")  # pragma: no cover

    def generate_valid(
        self, gateway: Gateway, request: GenerationRequest, timeout: float
    ) -> Generation:
        """One call; the answer validated (BadOutput carries the generation for its usage)."""
        given, self.answer = self.answer, None
        if given is not None:
            generation = given.generation
        else:
            generation = gateway.generate(replace(request, timeout=timeout))
        try:
            data = validate_generation(generation, self.schema)
        except BadOutput as exc:
            exc.generation = generation
            raise
        return replace(generation, data=data)


def truncated_error(cut: OutputTruncated, limit: int) -> OutputTruncated:
    """The run's error for an answer cut at the output token limit: never accepted as complete,
    no repair turn (the same request would be cut again), segmenting suggested."""
    error = OutputTruncated(
        f"The answer was cut off at the output token limit ({limit} tokens), so it is "
        "incomplete and was not accepted. The document yields more than one answer can hold: "
        "extract it in segments (smaller page ranges, or segmented arrays in the profile).",
        raw_text=cut.raw_text,
        errors=cut.errors,
        reason="output_truncated",
        max_output_tokens=limit,
    )
    error.generation = getattr(cut, "generation", None)
    return error
