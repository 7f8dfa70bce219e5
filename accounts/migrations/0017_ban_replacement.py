"""A ban names the ban that replaced it; the audit kind of a kept longer ban (issue 13)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0016_readable_factor_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='ban',
            name='replaced_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='accounts.ban'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='kind',
            field=models.CharField(choices=[('user.registered', 'Account created'), ('user.registration_duplicate_email', 'Someone tried to register with this email address'), ('email.verified', 'Email address verified'), ('login.succeeded', 'Signed in'), ('login.failed', 'Failed sign-in attempt'), ('login.locked', 'Sign-in locked after repeated failures'), ('session.logout', 'Signed out'), ('session.revoked', 'Session revoked'), ('session.revoked_all', 'Signed out everywhere'), ('session.token_reuse', 'A spent refresh token was reused'), ('password.changed', 'Password changed'), ('password.reset_requested', 'Password reset requested'), ('password.reset', 'Password reset'), ('user.profile_updated', 'Profile updated'), ('email.change_requested', 'Email address change requested'), ('email.changed', 'Email address changed'), ('user.deleted', 'Account deleted'), ('mfa.enabled', 'Two-factor method turned on'), ('mfa.disabled', 'Two-factor method turned off'), ('mfa.recovery_codes', 'New recovery codes created'), ('login.mfa_failed', 'Wrong two-factor code at sign-in'), ('user.banned', 'Banned'), ('user.unbanned', 'Ban lifted'), ('user.ban_kept', 'Shorter ban not placed: a longer one is in force'), ('user.roles_changed', 'Roles changed'), ('user.deactivated', 'Account deactivated'), ('user.reactivated', 'Account reactivated'), ('password.confirmation_failed', 'Wrong password when confirming a sensitive change')], max_length=64),
        ),
    ]
