"""Process templates: QA approval and new draft versions (batches/services/templates.py),
called directly."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from batches.models import ProcessTemplate, StepParameter
from batches.services import templates
from carnk_mfg.signatures import signatures_for
from tests.factories import PASSWORD
from tests.services.trail import assert_trailed, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(db):
    """The default template as the data migration leaves it: a draft with its steps."""
    return ProcessTemplate.objects.get(code="CB-CAR-NK", version=1)


def approve(actor, template, password=PASSWORD):
    return templates.template_approve(actor=actor, password=password, template=template)


def test_approve_a_draft_signed_and_trailed(qa, draft):
    approve(qa, draft)
    draft.refresh_from_db()
    assert (draft.status, draft.approved_by) == ("approved", qa)
    (signature,) = signatures_for(draft)
    assert (signature.meaning, signature.attests) == ("approved", "template")
    assert_trailed(draft, actor=qa, reason="Template approved for use", label="update")


def test_approving_a_new_version_retires_the_old(qa, admin_user, approved_template):
    version_2 = templates.template_new_version(
        actor=admin_user, template=approved_template, reason="IL-2 dose change"
    )
    approve(qa, version_2)
    approved_template.refresh_from_db()
    assert approved_template.status == "retired"
    assert ProcessTemplate.objects.get(pk=version_2.pk).status == "approved"


def test_approve_refuses_a_template_not_a_draft(qa, approved_template):
    with unchanged(approved_template), pytest.raises(ValidationError, match="not a draft"):
        approve(qa, approved_template)


def test_approve_refuses_a_template_without_steps(qa):
    empty = ProcessTemplate.objects.create(
        code="EMPTY", version=1, name="Empty", expected_fold_min=10, expected_fold_max=100
    )
    with unchanged(empty), pytest.raises(ValidationError, match="without steps"):
        approve(qa, empty)


@pytest.mark.parametrize("role", ["technician", "admin"])
def test_approve_is_qas(users_by_role, draft, role):
    with unchanged(draft), pytest.raises(PermissionDenied):
        approve(users_by_role[role], draft)


def test_approve_refuses_a_wrong_password(qa, draft):
    with unchanged(draft, signing_failures=1), pytest.raises(ValidationError) as exc:
        approve(qa, draft, password="wrong")
    assert "password" in exc.value.message_dict


# --- new versions ---


def test_new_version_copies_steps_and_parameters_into_a_draft(admin_user, approved_template):
    version_2 = templates.template_new_version(
        actor=admin_user, template=approved_template, reason="IL-2 dose change"
    )
    version_2.refresh_from_db()
    assert (version_2.code, version_2.version, version_2.status) == ("CB-CAR-NK", 2, "draft")

    def shape(template):
        return [
            (s.order, s.code, s.planned_day, s.material_kinds, s.is_harvest)
            for s in template.steps.order_by("order")
        ]

    def params(template):
        return sorted(
            StepParameter.objects.filter(step__template=template).values_list(
                "step__code", "code", "value_type", "min_value", "max_value", "required"
            )
        )

    assert shape(version_2) == shape(approved_template) and shape(version_2)
    assert params(version_2) == params(approved_template) and params(version_2)
    assert_trailed(version_2, actor=admin_user, reason="IL-2 dose change", label="insert")


def test_new_version_is_administration(qa, approved_template):
    with unchanged(approved_template), pytest.raises(PermissionDenied):
        templates.template_new_version(actor=qa, template=approved_template, reason="r")


def test_new_version_needs_a_reason(admin_user, approved_template):
    with unchanged(approved_template), pytest.raises(ValidationError) as exc:
        templates.template_new_version(actor=admin_user, template=approved_template, reason="")
    assert "reason" in exc.value.message_dict
