"""API shapes of QC specification sets."""

from __future__ import annotations

from rest_framework import serializers

from qc.models import QcSpecSet


class TestDefinitionOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    specification = serializers.CharField(source="spec_text")
    trigger_step = serializers.CharField(source="trigger_step_code")
    turnaround_hours = serializers.IntegerField()
    required_for_release = serializers.BooleanField()
    may_release_pending = serializers.BooleanField()


class QcSpecSetOut(serializers.ModelSerializer):
    template = serializers.CharField(source="template.__str__")
    definitions = TestDefinitionOut(many=True, read_only=True)

    class Meta:
        model = QcSpecSet
        fields = ["id", "name", "version", "template", "status", "approved_at", "definitions"]
