"""`python manage.py runsimulator --port N`: the provider simulator, until Ctrl-C.

The simulator is for tests, `make run` and demos; it is left out of the production image
(.dockerignore), where this command says so instead of failing on an import.
"""

import signal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the simulated OpenAI, Gemini and Anthropic APIs (see llm/simulator/__init__.py)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--data-dir", help="where uploaded files are kept (default: a temp dir)"
        )
        parser.add_argument(
            "--latency",
            action="append",
            default=[],
            metavar="[PROVIDER:]OPERATION=SECONDS",
            help="per-call latency, e.g. generate=2 or gemini:upload=0.5 (repeatable)",
        )
        parser.add_argument(
            "--gemini-processing-polls",
            type=int,
            default=0,
            help="Gemini files answer PROCESSING to this many GETs before ACTIVE",
        )
        parser.add_argument(
            "--chaos-rate",
            type=float,
            default=0.0,
            help="share of generation calls given a random fault (500/503/429/drop/bad JSON)",
        )
        parser.add_argument("--chaos-seed", type=int, default=0, help="seed of the chaos faults")

    def handle(self, *args, **options):
        try:
            latencies = [_parse_latency(spec) for spec in options["latency"]]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not 0 <= options["chaos_rate"] <= 1:
            raise CommandError("--chaos-rate must be between 0 and 1")
        data_dir = Path(options["data_dir"]) if options["data_dir"] else None
        try:
            from llm.simulator.server import Simulator
        except ImportError as exc:
            raise CommandError(
                "The provider simulator is not part of this installation (the production image "
                "leaves it out); run it from a checkout of the repository."
            ) from exc
        try:
            sim = Simulator(host=options["host"], port=options["port"], data_dir=data_dir)
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc
        chaos = None
        if options["chaos_rate"]:
            chaos = {"seed": options["chaos_seed"], "rate": options["chaos_rate"]}
        # The command's options survive POST /_control/reset (they are this server's baseline).
        sim.set_baseline(
            latencies=latencies,
            chaos=chaos,
            gemini_processing_polls=options["gemini_processing_polls"],
        )
        self.stdout.write(
            f"Provider simulator at {sim.url} (OpenAI {sim.url}/openai/v1, Gemini "
            f"{sim.url}/gemini, Anthropic {sim.url}/anthropic, control {sim.url}/_control/). "
            "Ctrl-C stops it."
        )
        self.stdout.flush()
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            sim.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sim.stop()
            self.stdout.write("Simulator stopped.")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _parse_latency(spec: str) -> tuple[str, str, float]:
    target, sep, seconds = spec.partition("=")
    if not sep:
        raise ValueError(f"--latency {spec!r}: expected [PROVIDER:]OPERATION=SECONDS")
    provider, _, operation = target.rpartition(":")
    try:
        value = float(seconds)
    except ValueError:
        raise ValueError(f"--latency {spec!r}: {seconds!r} is not a number of seconds") from None
    return provider or "*", operation or "*", value
