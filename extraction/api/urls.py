from django.urls import path

from extraction.api import runs_views, views
from extraction.webhooks.api import urls as webhooks_urls

app_name = "api"
urlpatterns: list = [
    path("documents/", views.DocumentListCreateApi.as_view(), name="document-list"),
    path(
        "documents/<uuid:document_id>/", views.DocumentDetailApi.as_view(), name="document-detail"
    ),
    path(
        "documents/<uuid:document_id>/file", views.DocumentFileApi.as_view(), name="document-file"
    ),
    path("profiles/", runs_views.ProfileListView.as_view(), name="profile-list"),
    path(
        "documents/<uuid:document_id>/extractions/",
        runs_views.DocumentExtractionsView.as_view(),
        name="document-extractions",
    ),
    path("extractions/", runs_views.ExtractionListView.as_view(), name="extraction-list"),
    path(
        "extractions/<uuid:run_id>/",
        runs_views.ExtractionDetailView.as_view(),
        name="extraction-detail",
    ),
    path(
        "extractions/<uuid:run_id>/cancel/",
        runs_views.ExtractionCancelView.as_view(),
        name="extraction-cancel",
    ),
    path(
        "extractions/<uuid:run_id>/retry/",
        runs_views.ExtractionRetryView.as_view(),
        name="extraction-retry",
    ),
]

# /api/webhooks/… (extraction/webhooks/api/urls.py)
urlpatterns += webhooks_urls.urlpatterns
