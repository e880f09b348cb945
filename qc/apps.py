from django.apps import AppConfig


class QcConfig(AppConfig):
    name = "qc"
    verbose_name = "Quality control"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # What this app's signatures attest is registered before any signature is checked.
        from qc import attestations  # noqa: F401
