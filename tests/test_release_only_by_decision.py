"""A batch becomes released or rejected only through QA's release decision: the transitions
endpoint and the lifecycle service refuse it, the batch page does not offer it, the database
refuses it without a decision row, and no URL of the web pages, the API or the admin does it."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from batches.models import Batch, DoseUnit, ReleaseDecision
from batches.services import lifecycle, release
from qc.models import QcTest
from tests.batch_steps import formulate, result_all
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def releasable(in_qc_batch, qc_analyst, technician, qa):
    """A batch in QC that meets every gate: QC reviewed in spec, bags, record reviewed."""
    result_all(in_qc_batch, qc_analyst, UserFactory(username="qc-b", role="qc_analyst"))
    formulate(in_qc_batch, technician)
    release.batch_record_review(actor=qa, password=PASSWORD, batch=in_qc_batch)
    return in_qc_batch


def state_of(batch) -> str:
    return Batch.objects.get(pk=batch.pk).state


@pytest.mark.parametrize("to_state", ["released", "rejected"])
def test_the_transitions_endpoint_sends_qa_to_the_release_queue(api, qa, releasable, to_state):
    client = api.as_user(qa)
    url = f"/api/v1/batches/{releasable.lot_number}/transitions/"
    assert to_state not in client.get(url).json()["allowed"]
    response = client.post(
        url, {"to_state": to_state, "reason": "Around the gate", "password": PASSWORD}
    )
    assert response.status_code == 400
    message = response.json()["to_state"][0]
    assert "release queue (/release/)" in message and "/release/" in message
    assert state_of(releasable) == "in_qc"
    assert not ReleaseDecision.objects.exists()


@pytest.mark.parametrize("to_state", ["released", "rejected"])
def test_the_lifecycle_service_refuses_them_too(qa, releasable, to_state):
    with pytest.raises(ValidationError, match="release decision"):
        lifecycle.batch_transition(
            actor=qa, batch=releasable, to_state=to_state, reason="x", password=PASSWORD
        )
    assert state_of(releasable) == "in_qc"


def test_the_batch_page_offers_neither(client, qa, releasable):
    client.force_login(qa)
    page = client.get(releasable.get_absolute_url()).content.decode()
    assert 'id="transition-released-form"' not in page
    assert 'id="transition-rejected-form"' not in page
    assert "Release batch" not in page


def test_the_database_refuses_released_or_rejected_without_a_decision(releasable, qa):
    for state in ("released", "rejected"):
        with pytest.raises(DatabaseError, match="without a release decision"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE batches_batch SET state = %s WHERE id = %s", [state, releasable.pk]
                )
    # A rejection on record does not let the batch become released either.
    ReleaseDecision.objects.create(
        batch=releasable, decision="reject", reason="x", decided_by=qa, decided_at=timezone.now()
    )
    with pytest.raises(DatabaseError, match="without a release decision"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE batches_batch SET state = 'released' WHERE id = %s", [releasable.pk]
            )
    assert state_of(releasable) == "in_qc"


def test_a_batch_cannot_be_inserted_already_released(releasable):
    with pytest.raises(DatabaseError, match="a batch starts planned"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO batches_batch (lot_number, source_unit_id, template_id, "
                "din, unit_fraction_used_pct, state, held_from_state, "
                "state_changed_at, created_by_id, created_at) SELECT 'FORGED', source_unit_id, "
                "template_id, 'W042099999999', 1, 'released', '', now(), created_by_id, now() "
                "FROM batches_batch WHERE id = %s",
                [releasable.pk],
            )


# --- every URL pattern and API operation ---

# Where the release decision is made: the only places allowed to release or reject.
RELEASE_DECISION = {"release-decide", "api-batch-release"}
# Logging out would make the rest of the walk anonymous.
SKIPPED = {"logout", "admin:logout"}


def _patterns(resolver=None, prefix="", namespace=None):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or namespace
            if namespace and entry.namespace:
                inner = f"{namespace}:{entry.namespace}"
            yield from _patterns(entry, prefix + str(entry.pattern), inner)
        else:
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, prefix + str(entry.pattern), entry


KEYWORD = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


def _kwargs_of(route: str) -> list[str]:
    return [a or b for a, b in KEYWORD.findall(route)]


def _candidate_kwargs(name: str, keys: list[str], batch) -> list[dict]:
    """Concrete values for a pattern's keyword arguments: this batch's own records where the
    pattern is about them (bags, QC tests, deviations, template...), else a harmless 1."""
    tests = list(QcTest.objects.filter(batch=batch).values_list("pk", flat=True))
    ids = {
        "dose": list(DoseUnit.objects.filter(batch=batch).values_list("pk", flat=True)),
        "bag": list(DoseUnit.objects.filter(batch=batch).values_list("pk", flat=True)),
        "qc-test": tests[:2],
        "qc-": tests[:2],
        "template": [batch.template_id],
        "spec-set": list(batch.template.spec_sets.values_list("pk", flat=True)),
        "batch_batch": [batch.pk],
        "releasedecision": [1],
    }
    fixed = {
        "lot_number": batch.lot_number,
        "din": batch.source_unit.din,
        "subject_id": batch.intended_recipient.subject_id,
        "kind": "vector",
        "app_label": "batches",
        "reading_id": "00000000-0000-0000-0000-000000000001",
        "format": "json",
    }
    numbered = [k for k in keys if k not in fixed]
    if not numbered:
        return [{k: fixed[k] for k in keys}]
    found = next((v for marker, v in ids.items() if marker in (name or "")), [1]) or [1]
    return [
        {**{k: fixed[k] for k in keys if k in fixed}, **dict.fromkeys(numbered, pk)} for pk in found
    ]


def _payload() -> dict:
    """Every field name a state change might be asked for by, asking for release or
    rejection (one asks for each, so both are tried in one request)."""
    return {
        "to_state": "released",
        "expected_state": "in_qc",
        "state": "rejected",
        "status": "released",
        "decision": "reject",
        "conditional": "true",
        "reason": "Walking every URL",
        "notes": "Walking every URL",
        "disposition": "reject_batch",
        "password": PASSWORD,
        "action": "delete_selected",
        "_selected_action": "1",
        "post": "yes",
    }


def _try_every_method(client, url: str) -> None:
    if url.startswith("/api/"):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, _payload(), content_type="application/json")
            assert response.status_code < 500, (method, url, response.status_code)
            assert response.status_code != 401, (method, url)
    else:
        response = client.post(url, _payload())
        assert response.status_code < 500, (url, response.status_code)
        assert "/accounts/login/" not in response.get("Location", ""), url


def test_no_url_but_the_release_decision_releases_or_rejects(
    client, every_gmp_role, releasable, label_printer
):
    """Every URL pattern, the API's with POST, PUT, PATCH and DELETE, as an account that holds
    every GMP role and the admin console (staff): the batch, ready for release in every
    respect, stays in QC; then the release decision releases it. (A label printer answers, so
    a print is no server error.)"""
    from django.urls import NoReverseMatch

    every_gmp_role.is_staff = True
    every_gmp_role.save()
    client.force_login(every_gmp_role)
    visited, skipped = 0, []
    for name, route, _entry in _patterns():
        if name in RELEASE_DECISION or name in SKIPPED:
            continue
        keys = _kwargs_of(route)
        if name is None:
            # Unnamed (the admin's redirect from an object's URL to its change page): the
            # route itself, with this batch's id where it takes one.
            urls = ["/" + re.sub(r"<(?:\w+:)?\w+>", str(releasable.pk), route)]
        else:
            urls = []
            for kwargs in _candidate_kwargs(name, keys, releasable):
                try:
                    urls.append(reverse(name, kwargs=kwargs))
                except NoReverseMatch:
                    skipped.append(route)
        for url in urls:
            client.force_login(every_gmp_role)
            # Each request in a savepoint rolled back afterwards: whatever else it may do (a
            # retest, a discarded unit) leaves the batch releasable for the next one.
            with transaction.atomic():
                _try_every_method(client, url)
                assert state_of(releasable) == "in_qc", (name, url)
                assert not ReleaseDecision.objects.exists(), (name, url)
                transaction.set_rollback(True)
            visited += 1
    assert visited > 500, visited
    assert skipped == [], skipped
    # The release decision itself, the one way, releases it.
    response = client.post(
        reverse("release-decide", args=[releasable.lot_number]),
        {"decision": "release", "reason": "All release QC in spec", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert state_of(releasable) == "released"
    assert ReleaseDecision.objects.get(batch=releasable).decision == "release"
