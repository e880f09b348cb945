"""Logged in as the application's own role, the database still refuses a training record
whose trainer is the trainee, or one recorded by the trainee, whatever path writes it."""

from datetime import date

import pytest
from psycopg2 import errors

from batches.services import training
from tests.db.test_app_role import app_db  # noqa: F401  (the fixture: a connection as the app role)
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.clause("21 CFR 1271.170"),
]

INSERT = (
    "INSERT INTO batches_trainingrecord (procedure_version_id, trainee_id, trained_by_id,"
    " trained_on, assessment, expires_on, notes, recorded_by_id, recorded_at)"
    " VALUES (%s, %s, %s, '2026-01-05', 'passed', '2028-01-05', '', %s, now())"
)


@pytest.fixture
def version(qa):
    procedure = training.procedure_create(actor=qa, code="SOP-MFG-030", title="Harvest")
    return training.procedure_version_issue(
        actor=qa, procedure=procedure, effective_on=date(2020, 1, 1), document_reference="DMS-30"
    )


def test_the_app_role_cannot_store_a_trainer_training_themselves(app_db, version, qa):  # noqa: F811
    person = UserFactory.create(username="self-trained")
    with pytest.raises(errors.CheckViolation, match="training_trainer_not_trainee"):
        app_db((INSERT, [version.pk, person.pk, person.pk, qa.pk]))


def test_the_app_role_cannot_store_a_training_recorded_by_its_trainee(app_db, version):  # noqa: F811
    person, trainer = UserFactory.create(username="p"), UserFactory.create(username="t")
    with pytest.raises(errors.CheckViolation, match="training_recorder_not_trainee"):
        app_db((INSERT, [version.pk, person.pk, trainer.pk, person.pk]))


def test_the_app_role_stores_a_proper_training_record(app_db, version, qa):  # noqa: F811
    person, trainer = UserFactory.create(username="p"), UserFactory.create(username="t")
    app_db((INSERT, [version.pk, person.pk, trainer.pk, qa.pk]))
