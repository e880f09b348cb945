"""Shapes every record's API shares: its audit trail, its signatures, a signing password."""

from __future__ import annotations

from typing import Any, cast

from rest_framework import serializers

from carnk_mfg.fields import IdentifierField, free_text_validator
from carnk_mfg.models import ElectronicSignature
from carnk_mfg.signatures import signature_changes, signature_intact


class SignatureSerializer(serializers.ModelSerializer[ElectronicSignature]):
    """A signature with whether what it attests still holds (the signed record comes in the
    serializer's context as `record`)."""

    changed_since_signing = serializers.SerializerMethodField(
        help_text="Parts of the attested content that differ now; empty while intact"
    )
    intact = serializers.SerializerMethodField()

    class Meta:
        model = ElectronicSignature
        fields = [
            "printed_name",
            "signed_at",
            "meaning",
            "record_label",
            "attests",
            "record_sha256",
            "intact",
            "changed_since_signing",
            "comment",
        ]

    def get_changed_since_signing(self, signature: ElectronicSignature) -> list[str]:
        # The context is the dict the view passed in; it carries the cache between rows.
        context = cast(dict[str, Any], self.context)
        cache: dict[int, list[str]] = context.setdefault("_changes", {})
        if signature.pk not in cache:
            cache[signature.pk] = signature_changes(signature, self.context["record"])
        return cache[signature.pk]

    def get_intact(self, signature: ElectronicSignature) -> bool:
        return signature_intact(signature, self.context["record"])


class IdentifierInField(serializers.CharField):
    """A new record's identifier (a lot number, a subject ID): the model's IdentifierField
    pattern, checked here too, so the schema states it and a bad one is refused by name."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["validators"] = [*kwargs.get("validators", []), *IdentifierField.default_validators]
        super().__init__(**kwargs)


class PasswordField(serializers.CharField):
    """The signer's password, re-entered to sign (21 CFR 11.200)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("style", {"input_type": "password"})
        kwargs.setdefault("help_text", "Your password, re-entered to sign.")
        super().__init__(**kwargs)


class AuditEventOut(serializers.Serializer[Any]):
    # "label" and "context" are also attributes of every serializer; DRF's metaclass moves
    # declared fields out of the class body, so the API fields keep those names.
    at = serializers.DateTimeField(source="pgh_created_at")
    label = serializers.CharField(source="pgh_label")  # type: ignore[assignment]  # see above
    model = serializers.CharField(source="pgh_model")
    diff = serializers.JSONField(source="pgh_diff")
    context = serializers.JSONField(source="pgh_context")  # type: ignore[assignment]  # see above


NOT_TEXT = "Not a valid string."


def text_type_errors(serializer: serializers.Serializer[Any], data: Any) -> dict[str, Any]:
    """Where `data` gives a number or a true/false for a text field of `serializer` (nested
    serializers and lists of them included): DRF would turn 12 into "12", the schema says
    text, and a client sending a number has most likely mixed up its fields."""
    if not isinstance(data, dict):
        return {}
    errors: dict[str, Any] = {}
    for name, field in serializer.fields.items():
        if field.read_only or name not in data:
            continue
        value = data[name]
        if isinstance(field, serializers.CharField):
            if isinstance(value, int | float):  # bool is an int too
                errors[name] = [NOT_TEXT]
        elif isinstance(field, serializers.ListSerializer) and isinstance(value, list):
            child = field.child
            nested = {
                str(i): found
                for i, item in enumerate(value)
                if isinstance(child, serializers.Serializer)
                and (found := text_type_errors(child, item))
            }
            if nested:
                errors[name] = nested
        elif isinstance(field, serializers.Serializer):
            found = text_type_errors(field, value)
            if found:
                errors[name] = found
    return errors


class FreeTextIn(serializers.CharField):
    """Free text the API takes that no model field holds (a reason kept in the audit trail):
    refused with the same message as free-text fields when it holds control characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(free_text_validator)
