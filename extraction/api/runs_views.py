"""Profiles and extraction runs: thin views over extraction.services.runs and selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from extraction import selectors
from extraction.api.error_bodies import (
    ExtractionFinishedErrorSerializer,
    ExtractionInProgressErrorSerializer,
    ExtractionRequestErrorSerializer,
)
from extraction.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from extraction.api.runs_filters import ExtractionRunFilter
from extraction.api.runs_serializers import (
    ExtractionAcceptedSerializer,
    ExtractionCreateSerializer,
    ExtractionRunDetailSerializer,
    ExtractionRunSerializer,
    ProfileSerializer,
    run_url,
)
from extraction.models import Document, ExtractionRun, Trigger
from extraction.services.runs import (
    extraction_run_cancel,
    extraction_run_enqueue,
    extraction_run_retry,
)
from remorai.pagination import CappedCountPagination
from remorai.parsers import JSONParser
from remorai.schema import error_response

IN_PROGRESS = error_response(
    "`extraction_in_progress`: a run of this document and profile is queued or running "
    "(`active_run_id`).",
    ExtractionInProgressErrorSerializer,
)


def _accepted(run: ExtractionRun, request) -> Response:
    url = run_url(run, request)
    body = ExtractionAcceptedSerializer({"id": run.pk, "status": run.status, "url": url}).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


class ProfileListView(generics.ListAPIView):
    serializer_class = ProfileSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.profile_list()


class DocumentExtractionsView(generics.ListAPIView):
    """GET: the document's extraction history. POST: start an extraction (202)."""

    serializer_class = ExtractionRunSerializer
    filterset_class = None
    # The same page shape as GET /api/extractions/ (one schema component, `count_capped` too).
    pagination_class = CappedCountPagination
    page_rows = staticmethod(selectors.extraction_run_list_rows)
    # JSON only: one request format in the schema (a generated client sends the body once).
    parser_classes = [JSONParser]

    def get_document(self) -> Document:
        return selectors.document_get(
            owner=self.request.user, document_id=self.kwargs["document_id"]
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExtractionRun.objects.none()
        return selectors.extraction_run_list(owner=self.request.user, document=self.get_document())

    @extend_schema(
        request=ExtractionCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            202: ExtractionAcceptedSerializer,
            409: IN_PROGRESS,
            422: error_response(
                "`unknown_profile` (`profile`), `unknown_model` (`model`, `known`), "
                "`model_retired` (`model`, `retired_on`, `replacement`: the model is past its "
                "retirement date) or `idempotency_key_reused`.",
                ExtractionRequestErrorSerializer,
            ),
        },
    )
    @idempotent("extractions.create")
    def post(self, request, document_id):
        document = self.get_document()
        serializer = ExtractionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        profile = selectors.profile_get(slug=data["profile"])
        run = extraction_run_enqueue(
            document=document,
            profile=profile,
            model=data.get("model") or None,
            transport=data["transport"],
            source=data["source"],
            trigger=Trigger.API,
            requested_by=request.user,
        )
        return _accepted(run, request)


class ExtractionListView(generics.ListAPIView):
    serializer_class = ExtractionRunSerializer
    filterset_class = ExtractionRunFilter
    pagination_class = CappedCountPagination  # no COUNT(*) over the whole history per page
    page_rows = staticmethod(selectors.extraction_run_list_rows)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExtractionRun.objects.none()
        return selectors.extraction_run_list(owner=self.request.user)


class ExtractionDetailView(APIView):
    @extend_schema(responses=ExtractionRunDetailSerializer)
    def get(self, request, run_id):
        run = selectors.extraction_run_get(owner=request.user, run_id=run_id)
        return Response(ExtractionRunDetailSerializer(run, context={"request": request}).data)


class ExtractionCancelView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: ExtractionRunSerializer,
            409: error_response(
                "`extraction_finished`: the run succeeded or failed (`status`). Cancelling a "
                "cancelled run is not an error: 200 with the run as it is.",
                ExtractionFinishedErrorSerializer,
            ),
        },
    )
    def post(self, request, run_id):
        run = extraction_run_cancel(
            run=selectors.extraction_run_get(owner=request.user, run_id=run_id)
        )
        return Response(ExtractionRunSerializer(run, context={"request": request}).data)


class ExtractionRetryView(APIView):
    @extend_schema(
        request=None,
        responses={
            202: ExtractionAcceptedSerializer,
            409: error_response(
                "`extraction_in_progress`: this run, or another of the same document and "
                "profile, is queued or running (`active_run_id`).",
                ExtractionInProgressErrorSerializer,
            ),
        },
    )
    def post(self, request, run_id):
        run = extraction_run_retry(
            run=selectors.extraction_run_get(owner=request.user, run_id=run_id),
            trigger=Trigger.API,
            requested_by=request.user,
        )
        return _accepted(run, request)
