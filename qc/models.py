"""QC: versioned specification sets, the tests of each batch, and overdue flagging
(DESIGN section 5). The scan reads only open tests through partial indexes, in the manner of
healthchecks' `sendalerts`, so closed tests cost it nothing however many there are."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q

from batches.models.templates import TEMPLATE_FROZEN, TemplateStatus, child_frozen

# Spec sets live like templates: draft, approved (frozen), retired.
SpecStatus = TemplateStatus


class ResultType(models.TextChoices):
    NUMERIC = "numeric", "Numeric"
    PASS_FAIL = "pass_fail", "Pass/fail"
    CATEGORICAL = "categorical", "Categorical"


@pghistory.track()
class QcSpecSet(models.Model):
    """A versioned release panel for one process template, approved by QA before use."""

    template = models.ForeignKey(
        "batches.ProcessTemplate", on_delete=models.PROTECT, related_name="spec_sets"
    )
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=SpecStatus.choices, default=SpecStatus.DRAFT)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["template", "-version"]
        permissions = [("approve_qcspecset", "Approve a QC specification set")]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="specset_version"),
        ]
        triggers = TEMPLATE_FROZEN

    def __str__(self):
        return f"{self.name} v{self.version}"


@pghistory.track()
class QcTestDefinition(models.Model):
    spec_set = models.ForeignKey(QcSpecSet, on_delete=models.CASCADE, related_name="definitions")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=200)
    method = models.CharField(max_length=200)
    result_type = models.CharField(max_length=20, choices=ResultType.choices)
    unit = models.CharField(max_length=40, blank=True)
    lower_limit = models.FloatField(null=True, blank=True)
    upper_limit = models.FloatField(null=True, blank=True)
    # Limits are inclusive unless marked strict (e.g. endotoxin < 5.0 EU/mL is strict).
    lower_strict = models.BooleanField(default=False)
    upper_strict = models.BooleanField(default=False)
    # Categorical and pass/fail: the allowed answers, and those that are in spec.
    allowed_values = models.JSONField(default=list, blank=True)
    passing_values = models.JSONField(default=list, blank=True)
    trigger_step_code = models.SlugField(max_length=40)
    sample_offset_hours = models.PositiveIntegerField(default=0)
    turnaround_hours = models.PositiveIntegerField()
    required_for_release = models.BooleanField(default=True)
    may_release_pending = models.BooleanField(default=False)

    class Meta:
        ordering = ["spec_set", "id"]
        constraints = [
            models.UniqueConstraint(fields=["spec_set", "code"], name="qc_definition_code"),
        ]
        triggers = [
            child_frozen(
                "SELECT s.status FROM qc_qcspecset s "
                "WHERE s.id = COALESCE(NEW.spec_set_id, OLD.spec_set_id)"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def spec_text(self) -> str:
        if self.result_type != ResultType.NUMERIC:
            return " or ".join(self.passing_values)
        parts = []
        if self.lower_limit is not None:
            parts.append(f"{'>' if self.lower_strict else '≥'} {self.lower_limit:g}")
        if self.upper_limit is not None:
            parts.append(f"{'<' if self.upper_strict else '≤'} {self.upper_limit:g}")
        return f"{' and '.join(parts)} {self.unit}".strip()


class TestState(models.TextChoices):
    PLANNED = "planned", "Awaiting sample"
    SAMPLED = "sampled", "Sampled"
    RESULTED = "resulted", "Resulted, awaiting review"
    REVIEWED = "reviewed", "Reviewed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_TEST_STATES = [TestState.PLANNED, TestState.SAMPLED, TestState.RESULTED]
OPEN_TEST = Q(state__in=OPEN_TEST_STATES)


@pghistory.track()
class QcTest(models.Model):
    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT, related_name="qc_tests")
    definition = models.ForeignKey(QcTestDefinition, on_delete=models.PROTECT, related_name="+")
    retest_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="retests"
    )
    state = models.CharField(max_length=20, choices=TestState.choices, default=TestState.PLANNED)
    triggered_at = models.DateTimeField()
    sample_due_at = models.DateTimeField()
    due_at = models.DateTimeField(help_text="Result reviewed by this time, or overdue")
    sampled_at = models.DateTimeField(null=True, blank=True)
    sampled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result_numeric = models.FloatField(null=True, blank=True)
    result_text = models.CharField(max_length=100, blank=True)
    result_unit = models.CharField(max_length=40, blank=True)
    in_spec = models.BooleanField(null=True, blank=True)
    evaluation = models.CharField(max_length=300, blank=True)
    resulted_at = models.DateTimeField(null=True, blank=True)
    resulted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result_source = models.CharField(max_length=20, default="manual")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set once by the scan that claims the flag; never by two (compare-and-set).
    due_soon_flagged_at = models.DateTimeField(null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        permissions = [
            ("record_qc_sample", "Record that a QC sample was taken"),
            ("enter_qc_result", "Enter a QC result"),
            ("review_qc_result", "Review a QC result (second person)"),
        ]
        indexes = [
            # The scan's three questions each read only open, not-yet-flagged rows.
            models.Index(
                fields=["due_at"],
                name="qctest_overdue_scan",
                condition=OPEN_TEST & Q(overdue_flagged_at__isnull=True),
            ),
            models.Index(
                fields=["due_at"],
                name="qctest_due_soon_scan",
                condition=OPEN_TEST & Q(due_soon_flagged_at__isnull=True),
            ),
            models.Index(
                fields=["overdue_flagged_at"],
                name="qctest_escalation_scan",
                condition=OPEN_TEST
                & Q(overdue_flagged_at__isnull=False, escalated_at__isnull=True),
            ),
            models.Index(fields=["batch", "state"], name="qctest_batch_state"),
        ]

    def __str__(self):
        return f"{self.definition.name} for {self.batch.lot_number}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_TEST_STATES


class AlertKind(models.TextChoices):
    DUE_SOON = "due_soon", "Due soon"
    OVERDUE = "overdue", "Overdue"
    ESCALATED = "escalated", "Escalated to QA"


@pghistory.track()
class QcAlert(models.Model):
    """One flag on one test; at most one open flag of each kind per test."""

    test = models.ForeignKey(QcTest, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["test", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_alert_per_kind",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.test}"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    IN_APP = "in_app", "In-app notice"


class Notification(models.Model):
    """Outbox: each row is sent (or shown) exactly once; the sender claims it first."""

    # What it is about: a QC alert, an overdue follow-up visit or a recall (one outbox, one
    # sender).
    alert = models.ForeignKey(
        QcAlert, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    visit = models.ForeignKey(
        "batches.FollowUpVisit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    recall = models.ForeignKey(
        "batches.Recall",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qc_notifications"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "channel", "recipient"], name="one_notification_per_recipient"
            ),
            models.UniqueConstraint(
                fields=["visit", "channel", "recipient"], name="one_visit_notice_per_recipient"
            ),
            models.UniqueConstraint(
                fields=["recall", "channel", "recipient"], name="one_recall_notice_per_recipient"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"], name="outbox_unsent", condition=Q(claimed_at__isnull=True)
            )
        ]

    def __str__(self):
        return f"{self.channel} to {self.recipient}: {self.subject}"


# --- instruments (DESIGN section 7) ---


class InstrumentKind(models.TextChoices):
    CELL_COUNTER = "cell_counter", "Cell counter"
    FLOW_CYTOMETER = "flow_cytometer", "Flow cytometer"
    PLATE_READER = "plate_reader", "Plate reader"
    QPCR = "qpcr", "qPCR"


@pghistory.track()
class Instrument(models.Model):
    """A lab instrument. It acts through its own service account (`user`, in the instrument
    role), so its readings carry it as the actor everywhere a person would appear."""

    name = models.CharField(max_length=120)
    model = models.CharField(max_length=120)
    serial_number = models.CharField(max_length=60, unique=True)
    location = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=InstrumentKind.choices)
    calibration_due = models.DateField()
    retired = models.BooleanField(default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="instrument"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.model}, S/N {self.serial_number})"

    def refusal(self, *, on) -> str:
        """Why this instrument's data must be refused on day `on`, or "" when it may send."""
        if self.retired:
            return f"Instrument {self.serial_number} is retired."
        if self.calibration_due < on:
            return (
                f"Instrument {self.serial_number} calibration lapsed on "
                f"{self.calibration_due:%Y-%m-%d}; its data cannot be accepted."
            )
        return ""


@pghistory.track(exclude=["key_hash"])
class InstrumentKey(models.Model):
    """An API key of one instrument: shown once, stored as a keyed hash (HMAC-SHA256 with a
    server secret), found by its prefix and compared in constant time; revocable."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="keys")
    label = models.CharField(max_length=120, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        state = "revoked" if self.revoked_at else "active"
        return f"{self.prefix}… ({state}) for {self.instrument.serial_number}"


@pghistory.track()
class InstrumentReading(models.Model):
    """One reading as the instrument sent it. `reading_id` (the client's UUID) makes
    submission idempotent: a retry finds it and creates nothing new."""

    reading_id = models.UUIDField(unique=True)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="readings")
    sample_id = models.CharField(max_length=60)
    batch = models.ForeignKey("batches.Batch", on_delete=models.PROTECT, related_name="readings")
    measured_at = models.DateTimeField()
    values = models.JSONField()
    cell_count = models.OneToOneField(
        "batches.CellCount", null=True, blank=True, on_delete=models.PROTECT, related_name="reading"
    )
    qc_test = models.ForeignKey(
        QcTest, null=True, blank=True, on_delete=models.PROTECT, related_name="readings"
    )
    source_import = models.ForeignKey(
        "InstrumentImport", null=True, blank=True, on_delete=models.PROTECT, related_name="readings"
    )
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-id"]
        permissions = [("submit_reading", "Submit instrument readings and imports")]

    def __str__(self):
        return f"Reading {self.reading_id} ({self.sample_id})"


class ImportStatus(models.TextChoices):
    STAGED = "staged", "Staged (preview)"
    ACCEPTED = "accepted", "Accepted"


@pghistory.track(exclude=["raw_file"])
class InstrumentImport(models.Model):
    """A native export file: kept as received with its SHA-256, previewed, then accepted."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="imports")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    raw_file = models.BinaryField()
    file_format = models.CharField(max_length=40)
    preview = models.JSONField(default=dict)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.STAGED
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "sha256"], name="import_file_once"),
        ]

    def __str__(self):
        return f"{self.filename} ({self.file_format}, {self.status})"
