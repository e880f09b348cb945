"""What the web tests of the batch record share: forms posted as the browser posts them,
and the batch planned and started through the pages."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from batches.models import Batch
from tests.batch_steps import planned_days_ago
from tests.factories import PASSWORD

STEP_NAMES = [
    "CBU thaw and NK isolation",
    "Stimulation with irradiated uAPC feeders and IL-2",
    "Retroviral transduction on RetroNectin-coated vessels",
    "Restimulation with feeders",
    "Harvest, wash and formulation",
]

ACTION_FORMS = (
    "step-form",
    "count-form",
    "deviation-form",
    "custody-form",
    "transition-in_process-form",
    "transition-harvested-form",
    "transition-terminated-form",
)


def local(moment):
    """A datetime as the browser's datetime-local input sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def day0():
    return timezone.now().replace(second=0, microsecond=0) - timedelta(days=15)


def step_data(code, at, values, materials, **extra):
    data = {"step": code, "performed_at": local(at), "password": PASSWORD}
    data.update({f"values.{name}": str(value) for name, value in values.items()})
    for row, item in enumerate(materials):
        data[f"materials.{row}.kind"] = item["kind"]
        data[f"materials.{row}.lot_number"] = item["lot_number"]
    data.update(extra)
    return data


def html(response):
    return response.content.decode()


def forms_on(page):
    return {name for name in ACTION_FORMS if f'id="{name}"' in page}


def plan_batch(client, unit, template, **extra):
    """Plan through the page, 30 days ago: the steps below are recorded on their days."""
    with planned_days_ago(30):
        response = client.post(
            reverse("batch-new"),
            {
                "source_unit": unit.din,
                "template": template.pk,
                "unit_fraction_used_pct": "50",
                **extra,
            },
        )
    assert response.status_code == 302, html(response)
    return Batch.objects.get(source_unit=unit)


def transition(client, batch, to_state, expected, **extra):
    return client.post(
        reverse("batch-transition", args=[batch.lot_number]),
        {"to_state": to_state, "expected_state": expected, "reason": "As planned", **extra},
    )


def post_step(client, batch, payload, **extra):
    return client.post(reverse("batch-step", args=[batch.lot_number]), step_data(*payload, **extra))


def count_data(moment, day, viable, **extra):
    return {
        "day": str(day),
        "measured_at": local(moment),
        "total_cells_per_ml": str(viable * 1.1),
        "viable_cells_per_ml": str(viable),
        "volume_ml": "10",
        **extra,
    }


def field_block(page, name):
    """The markup of one input's field block: where its own error must appear."""
    start = page.index(f'name="{name}"')
    end = page.find('<div class="field', start)
    return page[start:end]
