"""What the API answers about a batch taken from plan to infusion (QC results, bags assigned
and not, custody, a bedside check, an infusion) matches its schema: every read operation, on
real records rather than generated ones, so a field answered null where the schema does not
say nullable, or a field missing, fails here."""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from knox.models import AuthToken
from schemathesis import checks as builtin
from schemathesis.specs.openapi import checks as openapi

from carnk_mfg.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
CHECKS = [
    builtin.not_a_server_error,
    openapi.status_code_conformance,
    openapi.content_type_conformance,
    openapi.response_headers_conformance,
    openapi.response_schema_conformance,
]


@pytest.fixture
def in_process():
    """Keep the test's connection (and its transaction) across in-process requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def reads():
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails loudly
        if operation.method.upper() == "GET" and operation.path.startswith("/api/v1/"):
            yield operation


@pytest.mark.django_db
def test_every_read_of_a_whole_chain_answers_as_declared(infusion, qa, in_process):
    token = AuthToken.objects.create(user=qa)[1]
    headers = {"Authorization": f"Token {token}"}
    bag = infusion.dose_unit
    query = {"recipient": bag.recipient.subject_id, "dose_level": bag.dose_level.code}
    first_of: dict[str, dict] = {}
    checked = []
    operations = sorted(reads(), key=lambda op: op.path.count("{"))
    for operation in operations:
        names = re.findall(r"\{(\w+)\}", operation.path)
        collection = operation.path.split("{")[0]
        if names and (collection not in first_of or len(names) > 1):
            continue  # nothing of that kind in the chain, or a path under a sub-record
        parameters = {name: first_of[collection][name] for name in names}
        case = operation.Case(
            path_parameters=parameters,
            query=query if operation.path.endswith("/calculation/") else {"limit": 500},
        )
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        checked.append((operation.path, response.status_code))
        content_type = str({k.lower(): v for k, v in response.headers.items()}.get("content-type"))
        body = response.json() if "json" in content_type else {}
        if not names and body.get("results"):
            first_of[operation.path] = body["results"][-1]
    answered = dict(checked)
    # The chain reached every kind of record, and the reads of each answered.
    for path in (
        "/api/v1/doses/{id}/",
        "/api/v1/doses/{id}/calculation/",
        "/api/v1/infusions/{id}/",
        "/api/v1/bedside-checks/{id}/",
        "/api/v1/qc-tests/{id}/signatures/",
        "/api/v1/batches/{lot_number}/",
        "/api/v1/batches/{lot_number}/custody/",
        "/api/v1/batches/{lot_number}/coa/",
        "/api/v1/recipients/{subject_id}/history/",
    ):
        assert answered.get(path) == 200, (path, answered.get(path))
    assert len(checked) > 60
