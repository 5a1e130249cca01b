from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from extraction.models import Document


class DocumentUploadSerializer(serializers.Serializer):
    """The request body of an upload (multipart/form-data); the view reads the file itself."""

    file = serializers.FileField(help_text="The PDF, as the only file of the request.")


class EmbeddedInvoiceSerializer(serializers.Serializer):
    standard = serializers.ChoiceField(
        choices=["factur-x", "zugferd", "xrechnung", "ubl"],
        help_text="The e-invoice standard of the XML embedded in the PDF.",
    )
    profile = serializers.CharField(
        allow_null=True,
        help_text="Its profile (conformance level): minimum, basicwl, basic, en16931, extended…",
    )


class DocumentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    embedded_invoice = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "original_name",
            "sha256",
            "size_bytes",
            "page_count",
            "is_encrypted",
            "embedded_invoice",
            "created_at",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, document: Document) -> str:
        path = reverse("api:document-detail", kwargs={"document_id": document.id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(EmbeddedInvoiceSerializer(allow_null=True))
    def get_embedded_invoice(self, document: Document) -> dict | None:
        found = document.embedded_invoice
        if not found:
            return None
        return {"standard": found.get("standard"), "profile": found.get("profile")}
