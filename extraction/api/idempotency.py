"""`Idempotency-Key` for POST endpoints, over IdempotencyRecord.

Same key + same request (path and body) -> the stored response, replayed (header
`Idempotent-Replayed: true`); same key + a different request -> 422 `idempotency_key_reused`.
A record lives IDEMPOTENCY_TTL_HOURS (24): after that the key is new again.
The view and the record are written in one transaction: two concurrent requests with one key
cannot both take effect (the loser is rolled back and gets the winner's response).
Only responses the view returns (status < 500) are stored; an error raised as an exception
(409, 422, …) changed nothing, so it is not stored and the same key may be tried again.
"""

from __future__ import annotations

import functools
import hashlib
import json

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from extraction.errors import IdempotencyKeyReused, InvalidIdempotencyKey
from extraction.models import IdempotencyRecord
from extraction.services.idempotency import idempotency_cutoff
from remorai.errors import ApplicationError

HEADER = "Idempotency-Key"
# For @extend_schema(parameters=[...]) of every idempotent endpoint.
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Same key + same body: the same response again. Same key + another body: 422.",
)
_REPLAYED_HEADERS = ("Location",)


def _request_hash(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    data = request.data
    if hasattr(data, "lists"):  # multipart / form: values and uploaded files' bytes
        for name, values in sorted(data.lists()):
            digest.update(f"\0{name}\0".encode())
            for value in values:
                if isinstance(value, UploadedFile):
                    for chunk in value.chunks():
                        digest.update(chunk)
                    value.seek(0)
                else:
                    digest.update(str(value).encode())
    else:
        digest.update(json.dumps(data, sort_keys=True, cls=JSONEncoder).encode())
    for name, upload in sorted(getattr(request, "FILES", {}).items()):
        if name not in data:
            digest.update(f"\0{name}\0".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    for name, value in record.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _lookup(request, scope: str, key: str, request_hash: str) -> Response | None:
    record = IdempotencyRecord.objects.filter(owner=request.user, scope=scope, key=key).first()
    if record is None:
        return None
    if record.created_at < idempotency_cutoff():
        # Expired (the purge has not reached it yet): the key starts afresh.
        record.delete()
        return None
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return _replay(record)


def idempotent(scope: str):
    """Decorate an APIView's `post`: honours the Idempotency-Key header when present."""

    def decorator(method):
        @functools.wraps(method)
        def wrapper(view, request, *args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return method(view, request, *args, **kwargs)
            if not 0 < len(key) <= 255 or not key.isprintable():
                raise InvalidIdempotencyKey()
            request_hash = _request_hash(request)
            replay = _lookup(request, scope, key, request_hash)
            if replay is not None:
                return replay
            try:
                with transaction.atomic():
                    response = method(view, request, *args, **kwargs)
                    if response.status_code < 500:
                        IdempotencyRecord.objects.create(
                            owner=request.user,
                            scope=scope,
                            key=key,
                            request_hash=request_hash,
                            response_status=response.status_code,
                            response_body=json.loads(json.dumps(response.data, cls=JSONEncoder)),
                            response_headers={
                                h: response[h] for h in _REPLAYED_HEADERS if h in response
                            },
                        )
            except (IntegrityError, ApplicationError):
                # A concurrent request with this key may have won (its record, or the row it
                # made, e.g. the active run behind a 409): then this one gets its response.
                replay = _lookup(request, scope, key, request_hash)
                if replay is None:
                    raise
                return replay
            return response

        return wrapper

    return decorator
