"""Password hashing: Argon2id at OWASP's recommended parameters.

Django's own Argon2 defaults (100 MiB, 8 lanes per hash) would let a handful of concurrent
logins exhaust a 2-core host; OWASP's minimum for Argon2id is 19 MiB, 2 passes, 1 lane.
The algorithm name stays ``argon2``, so hashes made with other parameters still verify and
``must_update`` re-hashes them with these on the next successful login.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
