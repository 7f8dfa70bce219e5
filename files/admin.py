"""The files app's admin pages: uploaded avatars (``files.admin_avatars``)."""

from files import admin_avatars  # noqa: F401 (registers AvatarAdmin)
