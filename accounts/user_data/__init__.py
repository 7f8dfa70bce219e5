"""Every datum held about a user, declared once per model: how it is exported (the
document of ``users/me/export/``) and how it is erased (``user_delete``).

Each app declares one entry per model of its own that holds a user's data::

    register_user_data(
        model=ApiKey,
        section="api_keys",
        export=export_api_keys,  # (user) -> the section's data, usually a list of dicts
        schema=ExportApiKeySerializer(many=True),  # renders it, and documents it
        erase=erase_api_keys,  # (user) -> None: delete, revoke or anonymise the rows
    )

from its ``AppConfig.ready()``, so ``accounts`` (the base app) never imports a higher one.
The document is ``{"exported_at": ..., <section>: <value>, ...}`` in registration order,
and the API builds its OpenAPI schema from the same entries. A section exists only once
its model does: ``api_keys``, ``files`` and ``notifications`` appear when their apps have
models, ``social_accounts`` when allauth's socialaccount app is installed (its entry
belongs here, beside the one of allauth's ``EmailAddress``).

Rules for an export:

- only the user's own data: rows filtered by the user's id, and nothing that describes
  another person (see ``accounts.activity.shows_origin``);
- no secret, ever: no password hash, token, key, refresh ``jti``, recovery code; select
  only the columns exported (``values()``), so a secret is never even loaded;
- a bounded number of queries (one, ideally) whatever the number of rows;
- it returns Python values (UUIDs, datetimes...): its ``schema`` renders them, so the
  document has exactly the shape the OpenAPI schema shows.

Rules for an erasure:

- it runs inside ``user_delete``'s transaction, after every session is revoked, and gets
  the user with its original id; entries run in the reverse order of registration (later
  apps first, the account row itself last);
- it deletes the rows or strips what identifies the user from them; removing stored bytes
  (files) waits for the commit (``transaction.on_commit``);
- rows kept on purpose say why: ``erase=kept("reason")``;
- a record that finds the user's data through other rows (the admin's change log names
  its objects by content type and id) registers with ``erase_first=True``: it runs
  before any other erasure, while those rows still exist.

``tests/accounts/test_export.py`` fails for any installed model with a foreign key,
one-to-one or many-to-many relation to the user model, or a generic reference (a content
type and an object id) that can name the account, that has no entry here and that its
allow-list does not justify; ``tests/accounts/test_erasure.py`` fills every field of an
account and its rows with personal data and fails if any of it survives a deletion.
"""

from accounts.user_data import (
    admin_log,
    audit,
    mfa,
    moderation,
    passwords,
    profile,
    sessions,
)
from accounts.user_data.registry import (
    RESERVED_KEYS,
    Kept,
    UserData,
    UserDataRegistry,
    kept,
    register_user_data,
    user_data_registry,
    user_export,
)

# The accounts app's own entries, in the order of the document's sections.
for _concept in (profile, sessions, audit, passwords, mfa, moderation, admin_log):
    _concept.register(user_data_registry)

__all__ = [
    "RESERVED_KEYS",
    "Kept",
    "UserData",
    "UserDataRegistry",
    "kept",
    "register_user_data",
    "user_data_registry",
    "user_export",
]
