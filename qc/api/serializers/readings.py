"""API shapes of instrument readings."""

from __future__ import annotations

from rest_framework import serializers

from qc.models import InstrumentReading


class ReadingOut(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.serial_number")
    batch = serializers.CharField(source="batch.lot_number")

    class Meta:
        model = InstrumentReading
        fields = [
            "reading_id",
            "instrument",
            "sample_id",
            "batch",
            "measured_at",
            "values",
            "cell_count",
            "qc_test",
            "received_at",
        ]


READING_EXAMPLE = {
    "reading_id": "3f1c2a8e-8d3b-4a55-9a64-0c1d2e3f4a5b",
    "sample_id": "CNK-26000001-D07",
    "measured_at": "2026-11-20T09:15:00+00:00",
    "total_cells_per_ml": 2150000,
    "viable_cells_per_ml": 1980000,
    "viability_pct": 92.1,
    "volume_ml": 120,
}
