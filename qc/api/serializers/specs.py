"""API shapes of QC specification sets."""

from __future__ import annotations

from rest_framework import serializers

from qc.models import QcSpecSet


class QcSpecSetOut(serializers.ModelSerializer):
    template = serializers.CharField(source="template.__str__")
    definitions = serializers.SerializerMethodField()

    class Meta:
        model = QcSpecSet
        fields = ["id", "name", "version", "template", "status", "approved_at", "definitions"]

    def get_definitions(self, spec_set) -> list[dict]:
        return [
            {
                "code": d.code,
                "name": d.name,
                "specification": d.spec_text,
                "trigger_step": d.trigger_step_code,
                "turnaround_hours": d.turnaround_hours,
                "required_for_release": d.required_for_release,
                "may_release_pending": d.may_release_pending,
            }
            for d in spec_set.definitions.all()
        ]
