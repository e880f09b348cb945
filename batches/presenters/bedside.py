"""The bedside pages: a bedside check with the bag, batch and recipient its page names."""

from __future__ import annotations

from batches.models import BedsideCheck


def checks_for_page():
    return BedsideCheck.objects.select_related("dose_unit__batch", "recipient", "checked_by")
