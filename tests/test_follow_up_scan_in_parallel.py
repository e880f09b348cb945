"""Two follow-up visit scans at once (two beat schedulers, or a scan still running when the
next starts) flag each overdue visit once and tell clinical staff once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from batches.models import FollowUpVisit
from batches.services import clinical as clinical_services
from qc.models import Notification


@pytest.mark.django_db(transaction=True)
def test_two_visit_scans_in_parallel_never_double_flag(infusion, clinical):
    visits = FollowUpVisit.objects.filter(infusion=infusion)
    assert visits.count() > 1
    when = max(v.due_at for v in visits) + timedelta(hours=1)
    barrier = threading.Barrier(2)
    flagged: list[int] = []

    def scan() -> None:
        barrier.wait()
        try:
            flagged.append(clinical_services.follow_up_overdue_scan(now=when))
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(flagged) == visits.count(), flagged
    assert not visits.filter(overdue_flagged_at__isnull=True).exists()
    # One notice per visit to the recipient's treating clinician, in the app and by email.
    treating = infusion.recipient.treating_clinician
    notices = Notification.objects.filter(visit__infusion=infusion)
    assert notices.count() == visits.count() * 2
    assert sorted(set(notices.values_list("recipient", "channel"))) == [
        (treating.pk, "email"),
        (treating.pk, "in_app"),
    ]
