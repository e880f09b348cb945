from django.apps import AppConfig


class CarnkMfgConfig(AppConfig):
    name = "carnk_mfg"
    verbose_name = "Compliance core"
    default_auto_field = "django.db.models.BigAutoField"
