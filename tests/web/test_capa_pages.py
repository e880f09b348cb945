"""CAPAs from the web: QA raises one on a deviation from the batch page's link, its owner
records it done, QA signs the effectiveness check; the list marks the overdue ones; a refused
form records nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from batches.models import Capa
from batches.services import batch_record
from batches.services import capa as capa_services
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def deviation(running_batch, technician):
    return batch_record.deviation_open(
        actor=technician,
        batch=running_batch,
        kind="other",
        what="Incubator door left open",
        why="Alarm muted",
        impact="Temperature excursion of 10 minutes",
    )


def day(n):
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def test_qa_raises_the_owner_does_and_qa_signs_the_check(
    client, deviation, qa, technician, running_batch
):
    client.force_login(qa)
    page = client.get(running_batch.get_absolute_url()).content.decode()
    link = f"{reverse('capa-new')}?deviation={deviation.pk}"
    assert link in page
    form = client.get(link)
    assert form.status_code == 200
    response = client.post(
        reverse("capa-new"),
        {
            "deviations": [deviation.pk],
            "action": "Unmutable door alarm",
            "owner": technician.username,
            "due_on": day(14),
            "effectiveness_check_on": day(44),
        },
    )
    capa = Capa.objects.get()
    assert response.status_code == 302 and response.url == reverse("capa-detail", args=[capa.pk])
    assert list(capa.deviations.all()) == [deviation]

    # Only its owner records it done; QA may not (the page offers no form, the POST refuses).
    refused = client.post(reverse("capa-complete", args=[capa.pk]), {"notes": "Fixed"})
    assert refused.status_code in (400, 403)
    capa.refresh_from_db()
    assert capa.state == "open"
    client.force_login(technician)
    done = client.post(reverse("capa-complete", args=[capa.pk]), {"notes": "Alarm replaced"})
    assert done.status_code == 302
    capa.refresh_from_db()
    assert capa.state == "done" and capa.completed_by == technician

    client.force_login(qa)
    unsigned = client.post(
        reverse("capa-verify", args=[capa.pk]),
        {"effective": "yes", "result": "No door alarm muted since", "password": "wrong"},
    )
    assert unsigned.status_code == 400
    capa.refresh_from_db()
    assert capa.state == "done"
    signed = client.post(
        reverse("capa-verify", args=[capa.pk]),
        {"effective": "yes", "result": "No door alarm muted since", "password": PASSWORD},
    )
    assert signed.status_code == 302
    capa.refresh_from_db()
    assert capa.state == "effective" and capa.verified_by == qa


def test_a_due_date_in_the_past_is_a_form_error_and_nothing_is_raised(client, deviation, qa):
    client.force_login(qa)
    response = client.post(
        reverse("capa-new"),
        {
            "deviations": [deviation.pk],
            "action": "Retrain",
            "owner": qa.username,
            "due_on": day(-1),
            "effectiveness_check_on": day(30),
        },
    )
    assert response.status_code == 200
    assert "The due date cannot be in the past." in response.content.decode()
    assert not Capa.objects.exists()


def test_the_list_marks_the_overdue_and_only_qa_raises(client, deviation, qa, technician):
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=True):
        late = capa_services.capa_raise(
            actor=qa,
            deviations=[deviation],
            action="Late one",
            owner=technician,
            due_on=timezone.localdate() + timedelta(days=2),
            effectiveness_check_on=timezone.localdate() + timedelta(days=30),
        )
    on_time = capa_services.capa_raise(
        actor=qa,
        deviations=[deviation],
        action="On time",
        owner=technician,
        due_on=timezone.localdate() + timedelta(days=5),
        effectiveness_check_on=timezone.localdate() + timedelta(days=30),
    )
    client.force_login(technician)
    page = client.get(reverse("capa-list")).content.decode()
    rows = {
        pk: page[page.index(f">CAPA {pk}<") :].split("</tr>")[0] for pk in (late.pk, on_time.pk)
    }
    assert "OVERDUE" in rows[late.pk] and "OVERDUE" not in rows[on_time.pk]
    overdue_only = client.get(reverse("capa-list"), {"show": "overdue"}).content.decode()
    assert f">CAPA {late.pk}<" in overdue_only and f">CAPA {on_time.pk}<" not in overdue_only
    assert client.get(reverse("capa-new")).status_code == 403
