"""Scripted faults, latency, chaos mode and the request log of the simulator.

A fault rule matches provider + operation (and optionally model); it fires `count` times (None =
forever) or with a `probability`. Kinds:

- ``error``: answer `status` with the provider's error body; `retry_after` (Retry-After header,
  seconds), `retry_after_ms`, `retry_delay` (Gemini `details[].retryDelay`, e.g. "2s"), `quota`
  (OpenAI `insufficient_quota` 429, Gemini quota-exceeded), `message`, `code`, `error_type`.
- ``delay``: sleep `delay` seconds, then answer normally (a delay past the client's timeout).
- ``drop``: read the request, then close the socket without any response.
- ``stall``: send the headers and half the body, stay silent `stall` seconds, then close.
- ``malformed_json``: the generation's text is cut-off, unparseable JSON.
- ``schema_violation``: the generation is JSON that breaks the requested schema.
- ``truncated``: like malformed_json, with the provider's max-tokens finish reason.
- ``file_gone``: the referenced file answers as expired/vanished (404; Gemini 403).

Every fault may also carry `delay` (seconds slept before the outcome) and `after` (let that many
matching calls through first).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = {
    "error",
    "delay",
    "drop",
    "stall",
    "malformed_json",
    "schema_violation",
    "truncated",
    "file_gone",
}
PROVIDERS = {"openai", "gemini", "anthropic"}
OPERATIONS = {"upload", "list", "get", "content", "delete", "generate", "models"} | {
    f"batch_{name}" for name in ("create", "get", "list", "cancel", "delete", "results", "item")
}


@dataclass
class Fault:
    kind: str = "error"
    provider: str = "*"
    operation: str = "*"
    model: str | None = None
    status: int = 500
    count: int | None = 1
    after: int = 0  # let this many matching calls through before firing
    probability: float | None = None
    delay: float = 0.0
    stall: float = 30.0  # the "stall" kind: seconds of silence after half the answer
    retry_after: float | str | None = None
    retry_after_ms: int | None = None
    retry_delay: str | None = None
    quota: bool = False
    message: str | None = None
    code: str | None = None
    error_type: str | None = None
    fired: int = 0
    seen: int = 0

    def matches(self, provider: str, operation: str, model: str | None) -> bool:
        return (
            self.provider in ("*", provider)
            and self.operation in ("*", operation)
            and (self.model is None or (model is not None and self.model in model))
        )

    @classmethod
    def from_dict(cls, data: dict) -> Fault:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "status" in data and "kind" not in data:
            known["kind"] = "error"
        fault = cls(**known)
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; one of {sorted(KINDS)}")
        if fault.provider not in PROVIDERS | {"*"}:
            raise ValueError(f"unknown provider {fault.provider!r}")
        if fault.operation not in OPERATIONS | {"*"}:
            raise ValueError(f"unknown operation {fault.operation!r}; one of {sorted(OPERATIONS)}")
        return fault


@dataclass
class Chaos:
    seed: int = 0
    rate: float = 0.0
    kinds: list[str | dict] = field(
        default_factory=lambda: ["error:500", "error:503", "error:429", "drop", "malformed_json"]
    )
    operations: list[str] = field(default_factory=lambda: ["generate"])
    providers: list[str] = field(default_factory=lambda: ["*"])
    delay: float = 0.0


def chaos_fault(chaos: Chaos, spec: str | dict, provider: str, operation: str) -> Fault:
    """One chaos pick as a fault: "error:503", "drop", "delay" (chaos.delay seconds), or a dict
    like a fault rule ({"kind": "error", "status": 429, "retry_after": 2})."""
    if isinstance(spec, dict):
        data = dict(spec)
    else:
        kind, _, status = spec.partition(":")
        data = {"kind": kind}
        if status:
            data["status"] = int(status)
        if status == "429":
            data["retry_after"] = 1
    if data.get("kind") == "delay":
        data.setdefault("delay", chaos.delay)
    if data.get("status") == 529 and provider != "anthropic":
        data["status"] = 503  # only Anthropic says "overloaded" with 529
    return Fault.from_dict({**data, "provider": provider, "operation": operation, "count": None})


@dataclass
class LogEntry:
    seq: int
    time: float
    method: str
    path: str
    provider: str
    operation: str
    model: str | None = None
    bytes_in: int = 0
    bytes_out: int = 0
    status: int | None = None
    duration_ms: float = 0.0
    fault: str | None = None
    client_port: int = 0  # the same port on successive entries = one kept-alive connection
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


class FaultBook:
    """Fault rules, latencies and the request log, shared by all handler threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.faults: list[Fault] = []
            self.latency: dict[tuple[str, str], float] = {}
            self.chaos: Chaos | None = None
            self._random = random.Random(0)
            self.log: list[LogEntry] = []
            self._seq = 0

    def add(self, data: dict) -> Fault:
        fault = Fault.from_dict(data)
        with self._lock:
            self.faults.append(fault)
        return fault

    def set_latency(self, *, seconds: float, provider: str = "*", operation: str = "*") -> None:
        with self._lock:
            self.latency[(provider, operation)] = float(seconds)

    def set_chaos(self, data: dict | None) -> None:
        with self._lock:
            if not data or not data.get("rate"):
                self.chaos = None
                return
            known = {k: v for k, v in data.items() if k in Chaos.__dataclass_fields__}
            self.chaos = Chaos(**known)
            self._random = random.Random(self.chaos.seed)

    def latency_for(self, provider: str, operation: str) -> float:
        with self._lock:
            for key in ((provider, operation), (provider, "*"), ("*", operation), ("*", "*")):
                if key in self.latency:
                    return self.latency[key]
        return 0.0

    def take(self, provider: str, operation: str, model: str | None) -> Fault | None:
        """The fault to apply to this call, if any (consumes one use of a counted rule)."""
        with self._lock:
            for fault in self.faults:
                if not fault.matches(provider, operation, model):
                    continue
                if fault.count is not None and fault.fired >= fault.count:
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                if fault.probability is not None and self._random.random() >= fault.probability:
                    continue
                fault.fired += 1
                return fault
            chaos = self.chaos
            if (
                chaos
                and (operation in chaos.operations or "*" in chaos.operations)
                and ("*" in chaos.providers or provider in chaos.providers)
                and self._random.random() < chaos.rate
            ):
                return chaos_fault(chaos, self._random.choice(chaos.kinds), provider, operation)
        return None

    # --- request log ------------------------------------------------------------------------

    def record(self, **fields) -> LogEntry:
        with self._lock:
            self._seq += 1
            entry = LogEntry(seq=self._seq, time=time.time(), **fields)
            self.log.append(entry)
            if len(self.log) > 20000:
                del self.log[:5000]
        return entry

    def entries(self) -> list[dict]:
        with self._lock:
            return [asdict(entry) for entry in self.log]

    def state(self) -> dict:
        with self._lock:
            return {
                "faults": [asdict(f) for f in self.faults],
                "latency": [
                    {"provider": p, "operation": o, "seconds": s}
                    for (p, o), s in self.latency.items()
                ],
                "chaos": asdict(self.chaos) if self.chaos else None,
            }
