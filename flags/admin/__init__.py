"""Feature flags in the admin (issue 15), one of the two jobs staff use it for.

The list reads each flag's rules in one phrase and switches a flag on or off for
everyone, or back to its rules, in one click (a POST with the CSRF token; an endpoint's
flag switched off asks first, naming the route). A flag's page edits its rules and note
and shows its history: who changed which rule, when, from what to what, through the API,
the admin or ``manage.py``.

Nothing here writes a flag: every save, toggle and deletion calls ``flags.services``,
which checks ``accounts.access`` (``change_flags``), records the history and the audit
event with the staff member as actor, and makes every worker see the change within a
second. Its refusals (403, 503 when the cache refuses the change) are error messages on
the page, never a 500.

Waffle's switches and samples stay, for ops: waffle's own admin pages, behind Django's
model permissions, which no role grants (superusers only). Gatehouse reads neither.
"""

from __future__ import annotations

from django.contrib import admin

from flags.admin.model_admin import FlagAdmin, register

__all__ = ["FlagAdmin", "register"]

register(admin.site)
