"""`reextract --wait` as a user runs it, with no queue worker: it says so, --timeout ends the
wait, Ctrl-C ends it without a traceback, and django-q2's per-task "Enqueued" lines stay out of
the progress bar. Real processes (manage.py on a fresh SQLite install; a pty for the bar)."""

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

SEED = """
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from extraction.models import Document, ExtractionProfile, ExtractionRun
owner = get_user_model().objects.create_user("cli")
profile = ExtractionProfile.objects.get(slug="invoice")
for i in range(3):
    doc = Document(owner=owner, original_name=f"{i}.pdf", sha256=f"{i:064d}", size_bytes=9,
                   page_count=1)
    doc.file.save(f"{i}.pdf", ContentFile(b"%PDF-1.4 x"), save=False)
    doc.save()
    ExtractionRun.objects.create(document=doc, profile=profile, profile_version=profile.version,
        instructions=profile.instructions, schema=profile.schema, status="failed",
        requested_model=profile.default_model)
print("seeded")
"""


@pytest.fixture
def seeded(cli):
    result = cli.run("shell", "-c", SEED)
    assert "seeded" in result.stdout, result.stderr
    return cli


def read_until(fd, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_wait_without_a_worker_warns_and_timeout_ends_it(seeded):
    started = time.monotonic()
    result = seeded.run(
        "reextract", "--profile", "invoice", "--wait", "--poll", "0.2", "--timeout", "2"
    )
    assert result.returncode == 1
    assert "Queued 3 re-extractions" in result.stdout
    assert "No queue worker (qcluster) is running" in result.stderr
    assert "--timeout: 3 runs still queued or running" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60


def test_ctrl_c_while_waiting_ends_without_a_traceback(seeded):
    process = seeded.popen(
        "reextract",
        "--profile",
        "invoice",
        "--wait",
        "--poll",
        "0.2",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    warned = read_until(process.stderr.fileno(), b"No queue worker", timeout=120)
    assert b"No queue worker" in warned
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    err = warned + err
    assert process.returncode == 130
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err
    assert b"Stopped waiting: the runs go on in the background." in err


def test_enqueued_lines_do_not_interleave_with_the_progress_bar(seeded):
    controller, terminal = pty.openpty()  # stderr a terminal: tqdm draws its bar
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    process = seeded.popen(
        "reextract",
        "--profile",
        "invoice",
        "--wait",
        "--poll",
        "0.2",
        "--timeout",
        "1",
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    err = read_until(controller, b"--timeout:", timeout=120)
    process.wait(60)
    os.close(controller)
    assert b"queueing" in err and b"3/3" in err  # the bar was drawn
    assert b"Enqueued" not in err
