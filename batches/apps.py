from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Donor units, materials, recipients and batches"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # What this app's signatures attest is registered before any signature is checked;
        # imported here, not at the top: an AppConfig module loads before the models.
        from batches import attestations  # noqa: F401
