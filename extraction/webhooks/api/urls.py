from django.urls import path

from extraction.webhooks.api import views

# Included into the "api" namespace by extraction/api/urls.py.
urlpatterns = [
    path("webhooks/", views.WebhookListCreateView.as_view(), name="webhook-list"),
    path("webhooks/<uuid:endpoint_id>/", views.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<uuid:endpoint_id>/rotate-secret/",
        views.WebhookRotateSecretView.as_view(),
        name="webhook-rotate-secret",
    ),
    path("webhooks/<uuid:endpoint_id>/test/", views.WebhookTestView.as_view(), name="webhook-test"),
    path(
        "webhooks/<uuid:endpoint_id>/deliveries/",
        views.WebhookDeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
]
