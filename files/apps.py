from django.apps import AppConfig


class FilesConfig(AppConfig):
    """User uploads: validated by content, stored outside the web root, shared per object."""

    name = "files"

    def ready(self) -> None:
        from accounts.user_data import user_data_registry
        from files import user_data
        from files.user_data_avatars import register_avatars

        # One call per concept (files, avatars): each registers its own sections.
        user_data.register(user_data_registry)
        register_avatars(user_data_registry)
