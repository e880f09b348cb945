from django.apps import AppConfig


class QcConfig(AppConfig):
    name = "qc"
    verbose_name = "Quality control"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here, not at the top: an AppConfig module is loaded before the models.
        from batches import ports
        from qc import attestations  # noqa: F401  (registers what QC signatures attest)
        from qc.presenters.home import qc_worklists
        from qc.selectors import qc_test_of_sample, qc_tests_marked_overdue, release_tests
        from qc.services.notices import (
            notify_calibration_due,
            notify_capas_overdue,
            notify_recall,
            notify_training_expiring,
            notify_visits_overdue,
        )
        from qc.services.specs import qc_plan_for_step

        # batches reaches QC only through these ports (batches/ports.py).
        ports.fill(
            qc_plan_for_step=qc_plan_for_step,
            release_tests=release_tests,
            qc_test_of_sample=qc_test_of_sample,
            qc_tests_marked_overdue=qc_tests_marked_overdue,
            notify_recall=notify_recall,
            notify_visits_overdue=notify_visits_overdue,
            notify_training_expiring=notify_training_expiring,
            notify_calibration_due=notify_calibration_due,
            notify_capas_overdue=notify_capas_overdue,
            qc_worklists=qc_worklists,
        )
