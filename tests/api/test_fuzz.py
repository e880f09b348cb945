"""Property-based fuzzing of the whole API from its OpenAPI schema (schemathesis): whatever
the input, the answer is never a 500. Runs in-process against PostgreSQL."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from carnk_mfg.wsgi import application
from tests.factories import CordBloodUnitFactory, ReagentLotFactory, RecipientFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def admin_token(admin_user):
    from knox.models import AuthToken

    CordBloodUnitFactory(din="G123498654321")
    RecipientFactory(subject_id="CARNK-001")
    ReagentLotFactory(lot_number="IL2-0001")
    # As Django's own test client does: keep the test's connection (and its transaction)
    # open across in-process requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield AuthToken.objects.create(user=admin_user)[1]
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.exclude(path_regex="^/api/v1/auth/token/$").parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_produces_a_server_error(case, admin_token):
    response = case.call(headers={"Authorization": f"Token {admin_token}"})
    assert response.status_code < 500, (case.method, case.path, case.body, response.text[:500])
