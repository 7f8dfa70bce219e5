"""What an API key may do: the contract's scopes, one enum."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Scope(StrEnum):
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    FILES_READ = "files:read"
    FILES_WRITE = "files:write"
    FLAGS_READ = "flags:read"
    FLAGS_WRITE = "flags:write"
    # Staff powers: only on a key whose owner is staff (see apikeys.authentication).
    ADMIN = "admin"
    # RFC 7662 introspection: only on global (service) keys.
    TOKENS_INTROSPECT = "tokens:introspect"


# A key created without ``scopes``: everything a user's own key may do.
DEFAULT_SCOPES: Final[tuple[Scope, ...]] = tuple(
    scope for scope in Scope if scope not in {Scope.ADMIN, Scope.TOKENS_INTROSPECT}
)

# The choices of request and response fields (one enum in the OpenAPI schema).
SCOPE_CHOICES: Final = [(scope.value, scope.value) for scope in Scope]
