"""QC specification sets in the UI: QA approves a draft with an e-signature."""

import pytest

from qc.models import QcSpecSet
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_qa_approves_the_release_panel(client, qa, approved_template):
    spec = QcSpecSet.objects.get(template=approved_template)
    client.force_login(qa)
    assert client.get("/qc/spec-sets/").status_code == 200
    page = client.get(f"/qc/spec-sets/{spec.pk}/")
    assert b"Sign approval" in page.content and b"Endotoxin" in page.content
    wrong = client.post(f"/qc/spec-sets/{spec.pk}/", {"password": "nope"})
    assert wrong.status_code == 200 and b"password is not correct" in wrong.content
    r = client.post(f"/qc/spec-sets/{spec.pk}/", {"password": PASSWORD})
    assert r.status_code == 302
    spec.refresh_from_db()
    assert spec.status == "approved"


def test_only_qa_may_approve(client, qc_analyst, approved_template):
    spec = QcSpecSet.objects.get(template=approved_template)
    client.force_login(qc_analyst)
    page = client.get(f"/qc/spec-sets/{spec.pk}/")
    assert page.status_code == 200 and b"Sign approval" not in page.content
    assert client.post(f"/qc/spec-sets/{spec.pk}/", {"password": PASSWORD}).status_code == 403
