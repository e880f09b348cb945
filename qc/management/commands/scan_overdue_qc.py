"""`manage.py scan_overdue_qc`: run one overdue scan by hand (what beat runs every minute)."""

from django.core.management.base import BaseCommand

from qc.services.overdue import scan_overdue


class Command(BaseCommand):
    help = "Flag due-soon, overdue and escalation-worthy QC tests once, and send notifications."

    def handle(self, *args, **options):
        result = scan_overdue()
        self.stdout.write(
            f"due soon: {result.due_soon}, overdue: {result.overdue}, "
            f"escalated: {result.escalated}, notifications sent: {result.sent}"
        )
