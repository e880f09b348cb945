"""API shapes of instrument export files."""

from __future__ import annotations

from rest_framework import serializers

from qc.models import InstrumentImport


class ImportOut(serializers.ModelSerializer):
    """An import: `parsing` (preview empty), `ready` (preview to check), `failed` (`failure`
    says why) or `accepted`."""

    instrument = serializers.CharField(source="instrument.serial_number")

    class Meta:
        model = InstrumentImport
        fields = [
            "id",
            "instrument",
            "filename",
            "sha256",
            "file_format",
            "status",
            "failure",
            "preview",
            "uploaded_at",
            "accepted_at",
        ]


class ImportIn(serializers.Serializer):
    file = serializers.FileField(help_text="The instrument's native export, as it wrote it")
    instrument = serializers.CharField(
        required=False, help_text="Serial number; not needed with an instrument key"
    )
