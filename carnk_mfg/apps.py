from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    # After every migrate, once permissions exist for all apps, roles get exactly the
    # permissions ROLE_PERMISSIONS names, so a new model's rights never wait for a migration.
    if sender.name != "carnk_mfg":
        return
    from carnk_mfg.roles import sync_roles

    sync_roles(kwargs.get("apps"))


class CarnkMfgConfig(AppConfig):
    name = "carnk_mfg"
    verbose_name = "Compliance core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(_sync_roles, sender=self)
