"""A webhook receiver in its own process on loopback, as a client would write one: it verifies
each request with the `standardwebhooks` library and processes each webhook-id once.

Run: python webhook_receiver.py --port N --secrets FILE --log FILE [--fail-first K]
     [--status S] [--hang-first K --hang-seconds T] [--body-bytes B]
FILE of secrets: one per line (re-read per request, so a test can rotate them). Every request
is one JSON line in the log: webhook_id, verified, duplicate, type, host, answered.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secrets", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--hang-first", type=int, default=0)
    parser.add_argument("--hang-seconds", type=float, default=0)
    parser.add_argument("--body-bytes", type=int, default=2)
    args = parser.parse_args()
    lock = threading.Lock()
    state = {"requests": 0, "seen": set()}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with lock:
                state["requests"] += 1
                n = state["requests"]
            if n <= args.hang_first:
                with lock, open(args.log + ".arrivals", "a") as log:
                    log.write(json.dumps({"webhook_id": self.headers.get("webhook-id")}) + "\n")
                time.sleep(args.hang_seconds)
            secrets = [s for s in Path(args.secrets).read_text().split() if s]
            verified, payload = False, None
            for secret in secrets:
                try:
                    payload = Webhook(secret).verify(body, dict(self.headers))
                    verified = True
                    break
                except WebhookVerificationError:
                    continue
            webhook_id = self.headers.get("webhook-id")
            if not verified:
                status = 401
            elif n <= args.fail_first:
                status = 500
            else:
                status = args.status
            with lock:
                duplicate = webhook_id in state["seen"]
                if status < 300:
                    state["seen"].add(webhook_id)
            record = {
                "webhook_id": webhook_id,
                "verified": verified,
                "duplicate": duplicate,
                "type": (payload or {}).get("type"),
                "run_id": ((payload or {}).get("data") or {}).get("id"),
                "run_status": ((payload or {}).get("data") or {}).get("status"),
                "host": self.headers.get("host"),
                "signatures": len(self.headers.get("webhook-signature", "").split()),
                "answered": status,
            }
            with lock, open(args.log, "a") as log:
                log.write(json.dumps(record) + "\n")
            answer = b"x" * args.body_bytes
            self.send_response(status)
            if status in (301, 302, 307, 308):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(answer)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
