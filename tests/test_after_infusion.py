"""Follow-up visits across entry points: one overdue rule in the API filter and the worklist,
the scan's partial index, and every scheduled scan a registered task. The rules of adverse
events, the safety switch and visits are proven in tests/services/test_clinical.py."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from batches.models import FollowUpVisit
from tests.batch_steps import record_baseline_sample

pytestmark = pytest.mark.django_db


def test_an_overdue_visit_is_overdue_before_the_scan_flags_it(api, client, infusion, clinical):
    """One rule for visits too: not done and past due, in the API filter and the worklist."""
    record_baseline_sample(infusion, clinical)
    visit = FollowUpVisit.objects.get(infusion=infusion, day=3)
    with time_machine.travel(visit.due_at + timedelta(hours=1), tick=False):
        listed = api.as_user(clinical).get("/api/v1/follow-ups/", {"overdue": "true"}).json()
        assert [v["id"] for v in listed["results"]] == [visit.pk]
        assert visit.overdue_flagged_at is None
        rest = api.as_user(clinical).get("/api/v1/follow-ups/", {"overdue": "false"}).json()
        assert visit.pk not in [v["id"] for v in rest["results"]]
        assert rest["count"] + 1 == FollowUpVisit.objects.count()
        client.force_login(clinical)
        page = client.get("/clinical/follow-ups/").content.decode()
        assert page.count('class="overdue"') == 1
    bad = api.as_user(clinical).get("/api/v1/follow-ups/", {"overdue": "maybe"})
    assert bad.status_code == 400


def test_the_visit_claim_reads_its_partial_index(infusion):
    from django.db import connection

    from batches.selectors import visits_to_flag_overdue

    with connection.cursor() as cursor:
        # A nearly empty table is cheaper to read whole; ask whether the index *can* serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    claim = visits_to_flag_overdue(now=timezone.now() + timedelta(days=400))
    plan = claim.select_for_update(skip_locked=True, of=("self",)).values_list("id")[:10]
    assert "visit_overdue_scan" in plan.explain()


def test_every_scheduled_scan_is_a_registered_task(settings):
    from carnk_mfg.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
