"""QC specification sets and the QC plan (qc/services/specs.py), called
directly."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from carnk_mfg.signatures import signatures_for
from qc.models import QcSpecSet, QcTest
from qc.services import specs
from tests.factories import PASSWORD
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft_panel(approved_template):
    """The default release panel as the data migration leaves it: a draft."""
    return QcSpecSet.objects.get(template=approved_template, version=1)


def approve(actor, spec_set, password=PASSWORD):
    return specs.qc_spec_set_approve(actor=actor, password=password, spec_set=spec_set)


def test_approve_a_draft_panel_signed_and_trailed(draft_panel, qa):
    approve(qa, draft_panel)
    draft_panel.refresh_from_db()
    assert (draft_panel.status, draft_panel.approved_by) == ("approved", qa)
    (signature,) = signatures_for(draft_panel)
    assert (signature.meaning, signature.attests) == ("approved", "spec_set")
    assert_trailed(draft_panel, actor=qa, reason="Spec set approved", label="update")


def test_approving_a_new_version_retires_the_old(approved_spec_set, qa):
    version_2 = QcSpecSet.objects.create(
        template=approved_spec_set.template, version=2, name="Panel"
    )
    approve(qa, version_2)
    assert QcSpecSet.objects.get(pk=approved_spec_set.pk).status == "retired"
    assert specs.approved_spec_set(approved_spec_set.template) == version_2


def test_approve_refuses_a_panel_not_a_draft(approved_spec_set, qa):
    with unchanged(approved_spec_set), pytest.raises(ValidationError, match="not a draft"):
        approve(qa, approved_spec_set)


@pytest.mark.parametrize("role", ["qc_analyst", "admin"])
def test_approve_is_qas(users_by_role, draft_panel, role):
    with unchanged(draft_panel), pytest.raises(PermissionDenied):
        approve(users_by_role[role], draft_panel)


def test_approve_refuses_a_wrong_password(draft_panel, qa):
    with unchanged(draft_panel, signing_failures=1), pytest.raises(ValidationError) as exc:
        approve(qa, draft_panel, password="wrong")
    assert "password" in exc.value.message_dict


# --- the plan ---


def test_approved_spec_set_is_none_until_qa_approves(draft_panel, qa):
    assert specs.approved_spec_set(draft_panel.template) is None
    approve(qa, draft_panel)
    assert specs.approved_spec_set(draft_panel.template) == draft_panel


def test_plan_creates_the_tests_a_step_triggers_with_due_dates(steps_done_batch, qa):
    panel = approve(qa, QcSpecSet.objects.get(template=steps_done_batch.template, version=1))
    harvest = steps_done_batch.steps.get(template_step__code="harvest")
    created = specs.qc_plan_for_step(executed_step=harvest)
    tests = QcTest.objects.filter(batch=steps_done_batch).select_related("definition")
    assert {t.pk for t in tests} == {t.pk for t in created}
    assert {t.definition.code for t in tests} == set(
        panel.definitions.filter(trigger_step_code="harvest").values_list("code", flat=True)
    )
    for test in tests:
        offset = timedelta(hours=test.definition.sample_offset_hours)
        turnaround = timedelta(hours=test.definition.turnaround_hours)
        assert test.triggered_at == harvest.performed_at
        assert test.sample_due_at == harvest.performed_at + offset
        assert test.due_at == test.sample_due_at + turnaround
        assert test.state == "planned"


def test_plan_creates_nothing_for_a_step_that_triggers_nothing(steps_done_batch, qa):
    approve(qa, QcSpecSet.objects.get(template=steps_done_batch.template, version=1))
    thaw = steps_done_batch.steps.get(template_step__code="thaw_isolation")
    assert specs.qc_plan_for_step(executed_step=thaw) == []
    assert not QcTest.objects.filter(batch=steps_done_batch).exists()


def test_plan_creates_nothing_without_an_approved_panel(steps_done_batch):
    harvest = steps_done_batch.steps.get(template_step__code="harvest")
    assert specs.qc_plan_for_step(executed_step=harvest) == []
    assert not QcTest.objects.filter(batch=steps_done_batch).exists()
