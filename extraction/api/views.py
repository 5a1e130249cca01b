"""Documents API: thin views over extraction.services and extraction.selectors."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from extraction import selectors
from extraction.api.filters import DocumentFilter
from extraction.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from extraction.api.serializers import DocumentSerializer, DocumentUploadSerializer
from extraction.downloads import document_download
from extraction.errors import FileRequired, TooManyFiles, UploadTooLarge
from extraction.models import Document
from extraction.services.documents import document_delete
from extraction.services.intake import document_ingest
from extraction.uploads import request_upload_too_large
from remorai.renderers import JSONRenderer
from remorai.schema import error_response

UNAUTHENTICATED = error_response("Not authenticated.")
NOT_FOUND = error_response("No such document (or not yours).")


def uploaded_file(request):
    """The one file of a multipart upload, or the intake error that says what is wrong."""
    if request_upload_too_large(request):
        raise UploadTooLarge.over(settings.MAX_UPLOAD_BYTES)  # refused before the body is read
    try:
        files = request.FILES
    except (TooManyFilesSent, TooManyFieldsSent) as exc:
        raise TooManyFiles("Send exactly one file (and few form fields).") from exc
    except RequestDataTooBig as exc:
        raise UploadTooLarge("The form fields besides the file are too large.") from exc
    if request_upload_too_large(request):
        raise UploadTooLarge.over(settings.MAX_UPLOAD_BYTES)  # stopped while it was read
    sent = [upload for field in files for upload in files.getlist(field)]
    if len(sent) > 1:
        raise TooManyFiles(f"Send exactly one file (received {len(sent)}).")
    if "file" not in files:
        raise FileRequired()
    return files["file"]


class DocumentListCreateApi(generics.GenericAPIView):
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Document.objects.none()
        return selectors.document_list(owner=self.request.user)

    @extend_schema(
        operation_id="documents_list",
        summary="List your documents, newest first",
        responses={200: DocumentSerializer(many=True), 401: UNAUTHENTICATED},
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        operation_id="documents_create",
        summary="Upload a PDF",
        description=(
            "Multipart upload with one field `file`. The same bytes uploaded again by the same "
            "user return the existing document (200) instead of a copy."
        ),
        request={"multipart/form-data": DocumentUploadSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: DocumentSerializer,
            200: OpenApiResponse(DocumentSerializer, description="Already uploaded: the same one."),
            400: error_response("`file_required`, `too_many_files` or `empty_file`."),
            401: UNAUTHENTICATED,
            413: error_response("`too_large`: over MAX_UPLOAD_BYTES."),
            415: error_response("`not_pdf`: no %PDF- signature."),
            422: error_response("`pdf_encrypted`, `pdf_unreadable` or `too_many_pages`."),
        },
    )
    @idempotent("documents.upload")
    def post(self, request):
        document, created = document_ingest(owner=request.user, upload=uploaded_file(request))
        return self.document_response(document, created=created)

    def document_response(self, document: Document, *, created: bool) -> Response:
        data = self.get_serializer(document).data
        if not created:
            return Response(data, status=status.HTTP_200_OK)
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})


class DocumentDetailApi(generics.GenericAPIView):
    serializer_class = DocumentSerializer
    lookup_url_kwarg = "document_id"

    def get_object(self) -> Document:
        return selectors.document_get(
            owner=self.request.user, document_id=self.kwargs["document_id"]
        )

    @extend_schema(
        operation_id="documents_retrieve",
        summary="One of your documents",
        responses={200: DocumentSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def get(self, request, document_id):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        operation_id="documents_destroy",
        summary="Delete a document, its runs and its stored file",
        responses={204: None, 401: UNAUTHENTICATED, 404: NOT_FOUND},
    )
    def delete(self, request, document_id):
        document_delete(document=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentFileApi(generics.GenericAPIView):
    renderer_classes = [JSONRenderer]
    serializer_class = None

    def perform_content_negotiation(self, request, force=False):
        # The body is a FileResponse (no renderer involved); `Accept: application/pdf` must not
        # be refused with 406. Errors are rendered as JSON whatever was asked for.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="documents_file",
        summary="Download the PDF (as an attachment)",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            401: UNAUTHENTICATED,
            404: NOT_FOUND,
        },
    )
    def get(self, request, document_id):
        document = selectors.document_get(owner=request.user, document_id=document_id)
        return document_download(document)
