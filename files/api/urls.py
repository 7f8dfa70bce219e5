from __future__ import annotations

from django.urls import path

from files.api import views

app_name = "files"

# Mounted under /api/v1/files/ by config/api_urls.py.
urlpatterns = [
    path("", views.FileListApi.as_view(), name="list"),
    path("<uuid:file_id>/", views.FileDetailApi.as_view(), name="detail"),
    path("<uuid:file_id>/download/", views.FileDownloadApi.as_view(), name="download"),
    path("<uuid:file_id>/shares/", views.FileSharesApi.as_view(), name="shares"),
    path(
        "<uuid:file_id>/shares/<uuid:user_id>/",
        views.FileShareDetailApi.as_view(),
        name="share",
    ),
]
