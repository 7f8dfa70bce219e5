from __future__ import annotations

from django.urls import path

from flags.api import views

app_name = "flags"

# Mounted under /api/v1/flags/ by config/api_urls.py. A name may hold "/": the path
# converter takes everything up to the last "/" (flags/api:auth/login// is the flag
# "api:auth/login/"); "all/" comes first and is the staff list.
urlpatterns = [
    path("", views.FlagListApi.as_view(), name="mine"),
    path("all/", views.FlagAllApi.as_view(), name="all"),
    path("<path:name>/", views.FlagDetailApi.as_view(), name="detail"),
]
