"""``{% insights_dashboard %}``: the dashboard, for the admin's front page
(``templates/admin/index.html``)."""

from __future__ import annotations

from typing import Any

from django import template

from insights.dashboard import dashboard_for

register = template.Library()


@register.inclusion_tag("insights/dashboard.html", takes_context=True)
def insights_dashboard(context: template.Context) -> dict[str, Any]:
    return {"dashboard": dashboard_for(context["request"].user)}
