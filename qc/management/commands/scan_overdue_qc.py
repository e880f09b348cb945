"""`manage.py scan_overdue_qc`: run one overdue scan by hand (what beat runs every minute):
QC tests, and follow-up visits."""

from django.core.management.base import BaseCommand

from batches.services.clinical import follow_up_overdue_scan
from qc.services.overdue import scan_overdue


class Command(BaseCommand):
    help = (
        "Flag due-soon, overdue and escalation-worthy QC tests and overdue follow-up visits "
        "once, and send notifications."
    )

    def handle(self, *args, **options):
        # Visits first, so the QC scan's sending delivers their notices in the same run.
        visits = follow_up_overdue_scan()
        result = scan_overdue()
        self.stdout.write(
            f"due soon: {result.due_soon}, overdue: {result.overdue}, "
            f"escalated: {result.escalated}, notifications sent: {result.sent}, "
            f"follow-up visits overdue: {visits}"
        )
