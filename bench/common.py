"""Shared pieces of the benchmarks: database, processes, simulator, API client, memory probes.

Benchmarks run real processes (gunicorn, qcluster, the simulator) against a dedicated
PostgreSQL database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/remorai_bench)
that each benchmark drops, creates and migrates. Nothing here is imported by the test suite.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MANAGE = ROOT / "manage.py"
PY = sys.executable
PDFS = ROOT / "tests" / "fixtures" / "pdfs"
DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/remorai_bench"
).rstrip("/")
MiB = 1024 * 1024


def sqlite_django(prefix: str) -> Path:
    """This process made a Django process on a throw-away SQLite database (migrated, DEBUG off,
    media in the temp folder) for the in-process benches, which time code, not servers."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'db.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "remorai.settings_test"
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.DEBUG = False
    return tmp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Production-like settings (DEBUG off: no query log in memory), loopback HTTP."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "remorai.settings",
        "DATABASE_URL": DB_URL,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "MEDIA_ROOT": str(tmp / "media"),
        "THROTTLE_USER_RATE": "1000000/s",
        "THROTTLE_ANON_RATE": "1000000/s",
        "LITELLM_BASE_URL": "",
        "LLM_SECRETS_ID": "",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def simulated_providers(env: dict[str, str], sim_url: str) -> dict[str, str]:
    return {
        **env,
        "OPENAI_API_KEY": "sk-bench-simulated",
        "OPENAI_BASE_URL": sim_url + "/openai/v1",
        "GEMINI_API_KEY": "bench-simulated",
        "GEMINI_BASE_URL": sim_url + "/gemini",
        "ANTHROPIC_API_KEY": "sk-ant-bench-simulated",
        "ANTHROPIC_BASE_URL": sim_url + "/anthropic",
    }


def reset_database(env: dict[str, str]) -> None:
    """Drop, create and migrate the bench database."""
    import psycopg

    parts = urlsplit(DB_URL)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage(env, "migrate", "--noinput", "-v", "0")


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [PY, str(MANAGE), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return out.stdout


def django_setup(env: dict[str, str]) -> None:
    """Configure Django in this process with the bench environment (for seeding and tokens)."""
    os.environ.update(env)
    import django

    django.setup()


def user_token(username: str = "bench") -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username=username)
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


class Proc:
    """A child process in its own process group, stopped with SIGTERM then SIGKILL."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, process_group=0
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def check(self) -> None:
        if self.popen.poll() is not None:
            self.log.flush()
            tail = Path(self.log.name).read_bytes()[-3000:].decode(errors="replace")
            raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{tail}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.log.close()


def wait_http(url: str, proc: Proc | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None:
            proc.check()
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered at {url} within {timeout}s")


def start_simulator(log_dir: Path, *args: str):
    """`runsimulator` as a process; returns (Proc, SimulatorClient)."""
    from llm.simulator.testing import SimulatorClient

    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "remorai.settings_test"}
    proc = Proc(
        "simulator",
        [PY, str(MANAGE), "runsimulator", "--host", "127.0.0.1", "--port", str(port), *args],
        env,
        log_dir,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/_control/health", proc)
    return proc, SimulatorClient(url)


def start_gunicorn(env: dict[str, str], log_dir: Path, workers: int = 1, threads: int = 1):
    port = free_port()
    proc = Proc(
        "web",
        [
            PY, "-m", "gunicorn", "remorai.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--threads", str(threads), "--timeout", "600",
        ],
        env,
        log_dir,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", proc)
    return proc, url


def start_qcluster(env: dict[str, str], log_dir: Path) -> Proc:
    return Proc("worker", [PY, str(MANAGE), "qcluster"], env, log_dir)


def descendants(pid: int) -> list[int]:
    """pid and every process below it (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return out


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peaks(pids: list[int]) -> dict[int, int]:
    """Reset each process's peak RSS (VmHWM) to its current RSS; returns the RSS (KiB) now."""
    now = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            now[pid] = _status_kib(pid, "VmRSS")
    return now


def peak_growth_mib(before: dict[int, int]) -> dict[int, float]:
    """Peak RSS since reset_peaks minus the RSS at reset, per process (MiB)."""
    out = {}
    for pid, rss in before.items():
        with contextlib.suppress(OSError):
            out[pid] = (_status_kib(pid, "VmHWM") - rss) / 1024
    return out


def cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
    return "?"


def make_pdf(path: Path, *, pad_bytes: int = 0, label: str = "bench", pages: int = 1) -> Path:
    """A valid PDF with text 'Invoice No: <label>' and, optionally, a large padding stream.

    Written in chunks (never held in memory), with a correct xref table.
    """
    offsets = []
    with open(path, "wb") as fh:

        def obj(body: bytes) -> None:
            offsets.append(fh.tell())
            fh.write(f"{len(offsets)} 0 obj\n".encode() + body + b"\nendobj\n")

        fh.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
        obj(b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
        obj(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        for i in range(pages):
            text = f"BT /F1 12 Tf 72 720 Td (Invoice No: {label}-{i}) Tj ET".encode()
            obj(
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
            )
            obj(f"<< /Length {len(text)} >>\nstream\n".encode() + text + b"\nendstream")
        if pad_bytes:
            offsets.append(fh.tell())
            fh.write(f"{len(offsets)} 0 obj\n<< /Length {pad_bytes} >>\nstream\n".encode())
            chunk = os.urandom(MiB)
            left = pad_bytes
            while left:
                fh.write(chunk[: min(left, MiB)])
                left -= min(left, MiB)
            fh.write(b"\nendstream\nendobj\n")
        xref = fh.tell()
        fh.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
        for offset in offsets:
            fh.write(f"{offset:010d} 00000 n \n".encode())
        fh.write(
            f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n".encode()
        )
    return path


def wait_runs(client: httpx.Client, run_ids: list[str], timeout: float) -> dict[str, dict]:
    """Poll until every run is terminal; returns the final run bodies."""
    done: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(run_ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(run_ids) - len(done)} runs not finished after {timeout}s")
        for run_id in run_ids:
            if run_id in done:
                continue
            body = client.get(f"/api/extractions/{run_id}/").json()
            if body["status"] in ("succeeded", "failed", "cancelled"):
                done[run_id] = body
        time.sleep(0.5)
    return done


@contextlib.contextmanager
def workdir():
    with tempfile.TemporaryDirectory(prefix="remorai-bench-") as tmp:
        path = Path(tmp)
        (path / "media").mkdir()
        yield path


@contextlib.contextmanager
def simulated_django(tmp: Path):
    """The simulator, a fresh bench database, and this process's Django set up on it, for the
    benches that drive the product in-process; yields (env, sim, the peak RSS MiB of a bare
    `manage.py check`, their reference)."""
    sim_proc, sim = start_simulator(tmp)
    try:
        env = simulated_providers(base_env(tmp), sim.url)
        reset_database(env)
        _, base_rss, _ = run_measured([PY, str(MANAGE), "check"], env)
        django_setup(env)
        yield env, sim, base_rss
    finally:
        sim_proc.stop()


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


@contextlib.contextmanager
def stack(
    tmp: Path,
    *,
    sim_args=(),
    workers: int = 2,
    web_threads: int = 1,
    proxy: bool = False,
    **env_extra: str,
):
    """Simulator + fresh bench database + gunicorn + qcluster; yields a namespace.

    With `proxy`, the proxy route (LiteLLMProxy over httpx) is configured and points at the
    simulator's OpenAI-compatible endpoint, standing in for the LiteLLM proxy."""
    from types import SimpleNamespace

    procs: list[Proc] = []
    try:
        sim_proc, sim = start_simulator(tmp, *sim_args)
        procs.append(sim_proc)
        env = simulated_providers(base_env(tmp, Q_WORKERS=str(workers), **env_extra), sim.url)
        if proxy:
            env.update(LITELLM_BASE_URL=sim.url + "/openai", LITELLM_API_KEY="sk-bench-proxy")
        reset_database(env)
        django_setup(env)
        token = user_token()
        from django.db import connections

        connections.close_all()  # the next reset_database drops the database under it
        web, url = start_gunicorn(env, tmp, threads=web_threads)
        procs.append(web)
        worker = start_qcluster(env, tmp)
        procs.append(worker)
        client = httpx.Client(
            base_url=url, headers={"Authorization": f"Token {token}"}, timeout=600
        )
        yield SimpleNamespace(sim=sim, web=web, worker=worker, client=client, url=url, env=env)
        client.close()
    finally:
        for proc in reversed(procs):
            proc.stop()


def upload(client: httpx.Client, path: Path) -> str:
    with open(path, "rb") as fh:
        response = client.post(
            "/api/documents/", files={"file": (path.name, fh, "application/pdf")}
        )
    if response.status_code not in (200, 201):
        raise RuntimeError(f"upload {response.status_code}: {response.text[:500]}")
    return response.json()["id"]


def extract(client: httpx.Client, document_id: str, **body) -> str:
    response = client.post(
        f"/api/documents/{document_id}/extractions/", json={"profile": "invoice", **body}
    )
    if response.status_code != 202:
        raise RuntimeError(f"extract {response.status_code}: {response.text[:500]}")
    return response.json()["id"]


SEED_SQL = """
WITH docs AS (
    INSERT INTO extraction_document
        (id, original_name, file, sha256, size_bytes, page_count, is_encrypted, pdf_metadata,
         created_at, owner_id)
    SELECT gen_random_uuid(), 'bench-' || i || '.pdf', 'bench/' || i || '.pdf',
           lpad(to_hex(i), 64, '0'), 1000 + i, 1 + i %% 30, false, '{}'::jsonb,
           now() - make_interval(secs => %(n)s - i), %(owner)s
    FROM generate_series(1, %(n)s) AS i
    RETURNING id, created_at, size_bytes
)
INSERT INTO extraction_extractionrun
    (id, profile_version, instructions, schema, requested_model, fallback_models, transport,
     model_used, route, status, result, raw_output, simulated, error_code, error_message,
     input_tokens, output_tokens, document_tokens, cost_usd, created_at, queued_at, started_at,
     finished_at, attempt_count, cancel_requested, trigger, document_id, profile_id, owner_id,
     error_provider_code, source, warnings, checks, needs_review, cost_source, segmenting)
SELECT gen_random_uuid(), 1, 'Extract.', '{"type": "object"}'::jsonb, %(model)s, '[]'::jsonb,
       'file', %(model)s, 'direct', 'succeeded',
       jsonb_build_object('invoice_number', 'INV-' || size_bytes), '', true, '', '',
       1200, 80, 1000, 0.000420, created_at, created_at, created_at, created_at + interval '2s',
       1, false, 'api', id, %(profile)s, %(owner)s, '', 'auto', '[]'::jsonb, '[]'::jsonb, false,
       'catalog', '{}'::jsonb
FROM docs
"""


def seed_runs(n: int, *, username: str = "bench", profile_slug: str = "invoice") -> None:
    """n documents of `username`, each with one succeeded run of the profile (one SQL statement)."""
    import psycopg

    with psycopg.connect(DB_URL, autocommit=True) as conn:
        owner = conn.execute(
            "SELECT id FROM auth_user WHERE username = %s", (username,)
        ).fetchone()[0]
        profile, model = conn.execute(
            "SELECT id, default_model FROM extraction_extractionprofile WHERE slug = %s",
            (profile_slug,),
        ).fetchone()
        conn.execute(SEED_SQL, {"n": n, "owner": owner, "profile": profile, "model": model})
        # As autovacuum would leave them (it is off on some test machines' PostgreSQL, on in
        # RDS): planner statistics, and a visibility map that allows index-only scans.
        conn.execute("VACUUM (ANALYZE) extraction_document")
        conn.execute("VACUUM (ANALYZE) extraction_extractionrun")


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a child to completion: (wall seconds, peak RSS MiB of the child, stdout)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        popen = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(popen.pid, 0)
        elapsed = time.perf_counter() - started
        popen.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if popen.returncode:
        raise RuntimeError(f"{' '.join(argv[1:3])} failed ({popen.returncode}):\n{text[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, text
