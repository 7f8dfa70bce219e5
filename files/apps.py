from django.apps import AppConfig


class FilesConfig(AppConfig):
    """User uploads: validated by content, stored outside the web root, shared per object."""

    name = "files"
