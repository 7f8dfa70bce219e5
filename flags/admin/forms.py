"""A flag's form: its rules and note, saved by ``flags.services``."""

from __future__ import annotations

from typing import Any

from django import forms

from flags.endpoints import path_of_endpoint_flag
from flags.history import (
    BY_RULES,
    OFF_FOR_EVERYONE,
    ON_FOR_EVERYONE,
)
from flags.models import Flag

# The form's fields and the rule each one is (``flag_update``'s ``changes``).
RULE_OF_FIELD = {
    "everyone": "everyone",
    "percent": "percent",
    "groups": "roles",
    "users": "users",
    "note": "note",
}


class FlagForm(forms.ModelForm):
    """A flag's rules and note; ``name`` on the add page only. ``flags.services`` saves
    it (``FlagAdmin.save_model``), never ``ModelForm.save``."""

    class Meta:
        model = Flag
        fields = ("name", "everyone", "percent", "groups", "users", "note")
        labels = {
            "everyone": "Everyone",
            "percent": "Percentage of signed-in users",
            "groups": "Roles",
        }
        help_texts = {
            "name": "The name the code asks for: letters, digits, - or _, no spaces.",
            "everyone": (
                "On or off for everyone whatever the rules below say, or "
                "“by rules”: on for the roles, the users and the percentage below."
            ),
            "percent": (
                "0-100, one decimal place. The same users every time (a hash of the "
                "flag's name and the user's id); raising it keeps those already in."
            ),
            "groups": "On for every account with one of these roles.",
            "users": "On for these accounts.",
            "note": "What the flag is for, and when it can go.",
        }

    # Shown on an endpoint's flag only (``FlagAdmin.get_fields``): the form's way to
    # switch an endpoint off asks first too, as the list's toggle does.
    confirm_endpoint_off = forms.BooleanField(
        required=False,
        label="Yes, switch this route off",
        help_text=(
            "Needed to set Everyone to off on an endpoint's flag: every request to "
            "its route is then refused, on every worker within a second."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "everyone" in self.fields:
            # NullBooleanSelect's values (read by NullBooleanField), readable labels.
            widget = forms.NullBooleanSelect()
            widget.choices = [
                ("unknown", f"{BY_RULES} (the rules below)"),
                ("true", ON_FOR_EVERYONE),
                ("false", OFF_FOR_EVERYONE),
            ]
            self.fields["everyone"].widget = widget

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned_data = self.cleaned_data
        if (
            self.instance.pk is not None
            and self.instance.is_endpoint
            and "everyone" in self.changed_data
            and cleaned_data.get("everyone") is False
            and not cleaned_data.get("confirm_endpoint_off")
        ):
            self.add_error(
                "confirm_endpoint_off",
                f"Off for everyone, {path_of_endpoint_flag(self.instance.name)} is "
                "refused to every caller: tick this box to confirm.",
            )
        return cleaned_data


def rules_from(form: forms.ModelForm) -> dict[str, Any]:
    """The rules the form changed, as ``flag_update`` takes them."""
    changes: dict[str, Any] = {}
    for field in form.changed_data:
        rule = RULE_OF_FIELD.get(field)
        if rule is None:
            continue
        value = form.cleaned_data[field]
        if rule == "roles":
            value = [group.name for group in value]
        elif rule == "users":
            value = [user.pk for user in value]
        changes[rule] = value
    return changes
