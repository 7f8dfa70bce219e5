"""Cache invalidation for the per-request user snapshot (``accounts.session_state``).

Signals are used here, against the house rule, because a user changes through paths we do
not own (the admin, allauth marking an address verified, ``manage.py shell``) and a stale
snapshot would keep a deactivated user's tokens working. They only drop a cache entry,
after commit; no domain logic lives here.

One receiver does more: :func:`verify_new_superusers_address`, because Django's
``createsuperuser``, which we do not own either, offers no other hook.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.models import EmailCodeDevice, TOTPAuthenticator, User
from accounts.services.staff import superuser_address_verify
from accounts.session_state import forget_user
from config.client import SYSTEM


def _forget_after_commit(user_id: Any) -> None:
    if user_id is not None:
        transaction.on_commit(lambda: forget_user(user_id))


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def forget_changed_user(sender: type, instance: User, **kwargs: Any) -> None:
    _forget_after_commit(instance.pk)


@receiver(post_save, sender=User)
def verify_new_superusers_address(
    sender: type, instance: User, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """A superuser is only ever made on the server (``createsuperuser``, ``manage.py
    shell``, ``bootstrap_superadmin``): the admin cannot set ``is_superuser`` and roles
    never do. Whoever typed its address there stands for it, so it is verified at once
    (``accounts.services.staff``): with ``ACCOUNT_EMAIL_VERIFICATION=mandatory`` such an
    account could otherwise never sign in to the API, and no verification email would
    ever be sent to it. Fixtures (``raw``) are left as they are."""
    if created and instance.is_superuser and not raw:
        superuser_address_verify(user=instance, client=SYSTEM)


@receiver(post_save, sender=EmailAddress)
@receiver(post_delete, sender=EmailAddress)
def forget_user_of_changed_address(
    sender: type, instance: EmailAddress, **kwargs: Any
) -> None:
    _forget_after_commit(instance.user_id)


@receiver(post_save, sender=TOTPAuthenticator)
@receiver(post_delete, sender=TOTPAuthenticator)
@receiver(post_save, sender=EmailDevice)
@receiver(post_delete, sender=EmailDevice)
@receiver(post_save, sender=EmailCodeDevice)
@receiver(post_delete, sender=EmailCodeDevice)
def forget_user_of_changed_factor(sender: type, instance: Any, **kwargs: Any) -> None:
    # The snapshot carries mfa_enabled (me/, staff endpoints' MFA requirement).
    _forget_after_commit(instance.user_id)


@receiver(m2m_changed, sender=User.groups.through)
def forget_user_with_changed_groups(
    sender: type,
    instance: Any,
    action: str,
    reverse: bool,
    pk_set: set | None,
    **kwargs: Any,
) -> None:
    if not action.startswith("post_"):
        return
    if not reverse:
        _forget_after_commit(instance.pk)
    else:  # a group's members changed
        for user_id in pk_set or ():
            _forget_after_commit(user_id)
