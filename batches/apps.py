from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Donor units, materials, recipients and batches"
    default_auto_field = "django.db.models.BigAutoField"
