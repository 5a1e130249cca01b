"""/api/webhooks/: thin views over extraction.webhooks.services and selectors."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from extraction.webhooks import selectors, services
from extraction.webhooks.api.serializers import (
    RotateSecretInputSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointInputSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)
from extraction.webhooks.models import WebhookDelivery, WebhookEndpoint

_REFUSED = OpenApiResponse(
    description="webhook_url_refused (reason: insecure_scheme, "
    "credentials, unresolvable, forbidden_address) or unknown event."
)


def _endpoint_or_404(request, endpoint_id) -> WebhookEndpoint:
    try:
        return selectors.webhook_endpoint_get(owner=request.user, endpoint_id=endpoint_id)
    except WebhookEndpoint.DoesNotExist:
        raise Http404 from None


def _with_secret(endpoint, secret, http_status=status.HTTP_200_OK) -> Response:
    body = WebhookEndpointWithSecretSerializer(endpoint, context={"secret": secret}).data
    return Response(body, status=http_status)


class WebhookListCreateView(generics.ListAPIView):
    """GET: your endpoints. POST: register one (its secret is in this answer only)."""

    serializer_class = WebhookEndpointSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return selectors.webhook_endpoint_list(owner=self.request.user)

    @extend_schema(
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointWithSecretSerializer, 422: _REFUSED},
    )
    def post(self, request):
        serializer = WebhookEndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(
            owner=request.user, **serializer.validated_data
        )
        return _with_secret(endpoint, secret, status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    @extend_schema(responses=WebhookEndpointSerializer)
    def get(self, request, endpoint_id):
        return Response(WebhookEndpointSerializer(_endpoint_or_404(request, endpoint_id)).data)

    @extend_schema(
        request=WebhookEndpointInputSerializer,
        responses={200: WebhookEndpointSerializer, 422: _REFUSED},
    )
    def patch(self, request, endpoint_id):
        return self._update(request, endpoint_id, partial=True)

    @extend_schema(
        request=WebhookEndpointInputSerializer,
        responses={200: WebhookEndpointSerializer, 422: _REFUSED},
    )
    def put(self, request, endpoint_id):
        return self._update(request, endpoint_id, partial=False)

    def _update(self, request, endpoint_id, *, partial):
        endpoint = _endpoint_or_404(request, endpoint_id)
        serializer = WebhookEndpointInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, **serializer.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, endpoint_id):
        services.webhook_endpoint_delete(endpoint=_endpoint_or_404(request, endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(APIView):
    @extend_schema(
        request=RotateSecretInputSerializer, responses=WebhookEndpointWithSecretSerializer
    )
    def post(self, request, endpoint_id):
        endpoint = _endpoint_or_404(request, endpoint_id)
        serializer = RotateSecretInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_rotate_secret(
            endpoint=endpoint, overlap_seconds=serializer.validated_data.get("overlap_seconds")
        )
        return _with_secret(endpoint, secret)


class WebhookTestView(APIView):
    @extend_schema(
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            409: OpenApiResponse(description="webhook_endpoint_disabled"),
        },
    )
    def post(self, request, endpoint_id):
        delivery = services.webhook_endpoint_ping(endpoint=_endpoint_or_404(request, endpoint_id))
        delivery = selectors.webhook_delivery_list(endpoint=delivery.endpoint).get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveriesView(generics.ListAPIView):
    """The endpoint's deliveries, newest first, each with its tries."""

    serializer_class = WebhookDeliverySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        endpoint = _endpoint_or_404(self.request, self.kwargs["endpoint_id"])
        return selectors.webhook_delivery_list(endpoint=endpoint)
