from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate


def _sync_roles(sender: AppConfig, **kwargs: Any) -> None:
    # After every migrate, once permissions exist for all apps, roles get exactly the
    # permissions ROLE_PERMISSIONS names, so a new model's rights never wait for a migration.
    if sender.name != "carnk_mfg":
        return
    from carnk_mfg.roles import sync_roles  # not at the top: an AppConfig loads before models

    sync_roles(kwargs.get("apps"))


def _harden_trail(sender: AppConfig, using: str, **kwargs: Any) -> None:
    # Every trigger a migration installs puts back pgtrigger's own should-ignore function and
    # resets the trail's trigger functions; restore the trail's guard (carnk_mfg.dbroles) after
    # every migrate, and after every flush, which also ends in this signal.
    if sender.name != "carnk_mfg":
        return
    from carnk_mfg.dbroles import harden_trail  # the same: it imports the models

    harden_trail(using=using)


class CarnkMfgConfig(AppConfig):
    name = "carnk_mfg"
    verbose_name = "Compliance core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self)
        post_migrate.connect(_harden_trail, sender=self)
        # Whichever way a person signs in, the idle clock of the session starts then.
        from carnk_mfg.sessions import start_activity

        user_logged_in.connect(start_activity, dispatch_uid="carnk_mfg.start_activity")
