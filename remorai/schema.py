"""OpenAPI helpers shared by the API modules: the error body every 4xx uses."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine code, e.g. `pdf_encrypted`.")
    detail = serializers.CharField(help_text="Message for humans.")


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)
