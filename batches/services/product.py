"""The product definition: changed by QA, with a reason, in the trail. Bags already made keep
the product code and expiry they were given at formulation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from batches.models import ProductDefinition
from carnk_mfg.audit import gmp_write, validate_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CHANGEABLE = frozenset(
    {
        "name",
        "product_description_code",
        "collection_type",
        "caution_statement",
        "handling_statements",
        "fresh_storage_low_c",
        "fresh_storage_high_c",
        "fresh_stability",
        "cryopreserved_storage_low_c",
        "cryopreserved_storage_high_c",
        "cryopreserved_stability",
    }
)


def product_definition_change(
    *, actor: User, product: ProductDefinition, reason: str, **changes: Any
) -> ProductDefinition:
    """Change the product definition's settings named in `changes`; every field is checked
    (ISBT 128 codes, ordered storage ranges, stabilities above zero) before anything is kept."""
    unknown = sorted(set(changes) - CHANGEABLE)
    if unknown:
        raise ValidationError(
            {name: "Not a setting of the product definition." for name in unknown}
        )
    with gmp_write(actor=actor, permission="batches.change_productdefinition", reason=reason):
        locked = ProductDefinition.objects.select_for_update().get(pk=product.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        validate_record(locked)
        locked.save()
    return locked
