"""Names code checks: every feature flag that code reads is a member of :class:`Feature`
(house style rule 12: names over strings), so a typo fails at import time and a search
for the member finds every place that reads the flag."""

from __future__ import annotations

from enum import StrEnum


class Feature(StrEnum):
    """Feature flags read by code (``flags.permissions.flag_required``,
    ``flags.evaluation.flag_is_on``). A flag that does not exist is off: staff create it
    (admin, ``manage.py flags``) and set its rules before it serves anyone.

    Endpoint flags (``api:<route>``) are not listed: they are derived from the URLconf
    (``flags.endpoints``)."""

    # No member yet: add one per flag code reads, e.g. ``NEW_EDITOR = "new_editor"``.
