"""The release transition's gate: QC reviewed and in spec (or pending where allowed), no open
deviation, and a releaser who did not make the batch."""

import pytest
from django.core.exceptions import ValidationError

from batches.services import batch_record, lifecycle
from tests.batch_steps import result_all
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def release(batch, qa):
    return lifecycle.batch_transition(
        actor=qa, batch=batch, to_state="released", reason="Release", password=PASSWORD
    )


def test_release_with_everything_in_spec(in_qc_batch, qc_analyst, qa):
    result_all(in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    assert release(in_qc_batch, qa).state == "released"


def test_open_required_test_blocks_release(in_qc_batch, qc_analyst, qa):
    result_all(
        in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"), skip={"endotoxin"}
    )
    with pytest.raises(ValidationError) as exc:
        release(in_qc_batch, qa)
    assert "Endotoxin is awaiting sample" in exc.value.message_dict["to_state"][0]


def test_sterility_and_rcr_may_release_pending(in_qc_batch, qc_analyst, qa):
    result_all(
        in_qc_batch,
        qc_analyst,
        UserFactory(username="qc-b", role="qc_analyst"),
        skip={"sterility", "rcr"},
    )
    assert release(in_qc_batch, qa).state == "released"


def test_out_of_spec_blocks_release_even_after_disposition(in_qc_batch, qc_analyst, qa):
    from batches.models import Deviation

    result_all(
        in_qc_batch,
        qc_analyst,
        UserFactory(username="qc-b", role="qc_analyst"),
        overrides={"endotoxin": "9"},
    )
    deviation = Deviation.objects.get(batch=in_qc_batch, state="open")
    batch_record.deviation_disposition(
        actor=qa,
        password=PASSWORD,
        deviation=deviation,
        disposition="accept",
        notes="Investigated; retest ordered",
    )
    with pytest.raises(ValidationError) as exc:
        release(in_qc_batch, qa)
    assert "Endotoxin is out of specification" in exc.value.message_dict["to_state"][0]


def test_the_maker_cannot_release(in_qc_batch, qc_analyst, technician, qa):
    result_all(in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    technician.groups.add(qa.groups.get())
    maker = type(technician).objects.get(pk=technician.pk)  # fresh permission cache
    with pytest.raises(ValidationError) as exc:
        lifecycle.batch_transition(
            actor=maker, batch=in_qc_batch, to_state="released", reason="x", password=PASSWORD
        )
    assert "another QA reviewer" in exc.value.message_dict["to_state"][0]
