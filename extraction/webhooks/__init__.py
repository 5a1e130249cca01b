"""Webhooks: signed (Standard Webhooks), retried, logged run events for API clients.

`models` (endpoints, the delivery outbox and its attempts), `services` (every write), `outbox`
(the rows written with a run's terminal write), `delivery` (one HTTP attempt), `ssrf` (where a
webhook may go, and the pinned connection there), `signing`, `api/`, `admin`, `tasks`.
"""
