"""The product definition: what the CAR-NK product is called and coded, and how its bags are
labelled, stored and dated (defaults loaded by data migration)."""

from datetime import timedelta

import pghistory
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from batches.documents.labels import (
    DO_NOT_IRRADIATE,
    DO_NOT_LEUKOREDUCE,
    INVESTIGATIONAL_CAUTION,
)
from batches.models.release import Presentation
from carnk_mfg import isbt128
from carnk_mfg.fields import FreeCharField, FreeTextField

COLLECTION_TYPE_CHOICES = [
    (code, f"{code}: {meaning}") for code, meaning in isbt128.COLLECTION_TYPES.items()
]

product_description_code_validator = RegexValidator(
    isbt128.PRODUCT_DESCRIPTION_CODE_PATTERN,
    "A product description code is a capital letter and four digits, e.g. S1145.",
    code="product_description_code",
)


def _degrees_c() -> models.DecimalField:
    """A storage temperature in °C, to a tenth of a degree."""
    return models.DecimalField(max_digits=5, decimal_places=1)


@pghistory.track()
class ProductDefinition(models.Model):
    """The CAR-NK product a process template makes. Changed only through
    `product_definition_change` (permission, reason, trail)."""

    name = FreeCharField(max_length=200, unique=True)  # printed as the label's description
    product_description_code = models.CharField(
        max_length=5, validators=[product_description_code_validator]
    )
    collection_type = models.CharField(max_length=1, choices=COLLECTION_TYPE_CHOICES, default="V")
    caution_statement = FreeTextField(default=INVESTIGATIONAL_CAUTION)
    # One statement a line, each printed on the label.
    handling_statements = FreeTextField(
        default=f"{DO_NOT_IRRADIATE}\n{DO_NOT_LEUKOREDUCE}", blank=True
    )
    fresh_storage_low_c = _degrees_c()
    fresh_storage_high_c = _degrees_c()
    fresh_stability = models.DurationField(help_text="From formulation to expiry, fresh.")
    cryopreserved_storage_low_c = _degrees_c()
    cryopreserved_storage_high_c = _degrees_c()
    cryopreserved_stability = models.DurationField(
        help_text="From formulation to expiry, cryopreserved."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    product_description_code__regex=isbt128.PRODUCT_DESCRIPTION_CODE_PATTERN
                ),
                name="product_description_code_format",
            ),
            models.CheckConstraint(
                condition=Q(collection_type__in=list(isbt128.COLLECTION_TYPES)),
                name="product_collection_type_known",
            ),
            models.CheckConstraint(
                condition=Q(fresh_storage_low_c__lt=F("fresh_storage_high_c"))
                & Q(cryopreserved_storage_low_c__lt=F("cryopreserved_storage_high_c")),
                name="product_storage_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(fresh_stability__gt=timedelta(0))
                & Q(cryopreserved_stability__gt=timedelta(0)),
                name="product_stability_positive",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.product_description_code}{self.collection_type})"

    def bag_product_code(self, division: str) -> str:
        """The 8-character ISBT 128 product code of this product's bag `division`: the one
        place a bag's product code is composed."""
        return isbt128.product_code(self.product_description_code, self.collection_type, division)

    def stability(self, presentation: str) -> timedelta:
        """How long a bag of `presentation` (fresh or cryopreserved) keeps from formulation."""
        return (
            self.cryopreserved_stability
            if presentation == Presentation.CRYOPRESERVED
            else self.fresh_stability
        )

    def storage_range_c(self, presentation: str) -> tuple[float, float]:
        """The storage temperature range of a bag of `presentation`, low and high in °C."""
        if presentation == Presentation.CRYOPRESERVED:
            return float(self.cryopreserved_storage_low_c), float(self.cryopreserved_storage_high_c)
        return float(self.fresh_storage_low_c), float(self.fresh_storage_high_c)

    @property
    def handling(self) -> list[str]:
        return [line.strip() for line in self.handling_statements.splitlines() if line.strip()]
