"""Roles and the one question every entry path asks: may this actor do X?

Roles are Django groups, created and kept in step with ROLE_PERMISSIONS by data migrations
(`sync_roles`). Web views, API endpoints, admin actions and services all call `actor_may` /
`require_permission`, so a rule changes here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q

if TYPE_CHECKING:
    from django.apps.registry import Apps
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest


class Role:
    TECHNICIAN = "technician"
    QC_ANALYST = "qc_analyst"
    QA = "qa"
    CLINICAL = "clinical"
    ADMIN = "admin"
    INSTRUMENT = "instrument"
    COURIER = "courier"

    ALL = (TECHNICIAN, QC_ANALYST, QA, CLINICAL, ADMIN, INSTRUMENT, COURIER)
    LABELS = {
        TECHNICIAN: "Lab technician",
        QC_ANALYST: "QC analyst",
        QA: "QA reviewer",
        CLINICAL: "Clinical staff",
        ADMIN: "Administrator",
        INSTRUMENT: "Instrument",
        COURIER: "Courier",
    }


_VIEW_ALL = [
    "batches.view_cordbloodunit",
    "batches.view_donortest",
    "batches.view_vectorlot",
    "batches.view_feederlot",
    "batches.view_reagentlot",
    "batches.view_lotcertificate",
    "batches.view_stockadjustment",
    "batches.view_recipient",
    "batches.view_lymphodepletiondose",
    "carnk_mfg.view_electronicsignature",
    "batches.view_batch",
    "batches.view_processtemplate",
    "batches.view_executedstep",
    "batches.view_cellcount",
    "batches.view_deviation",
    "batches.view_custodyevent",
    "batches.view_doseunit",
    "batches.view_labelprintjob",
    "batches.view_protocoldoselevel",
    "batches.view_infusion",
    "batches.view_bedsidecheck",
    "batches.view_adverseevent",
    "batches.view_followupvisit",
    "batches.view_safetyswitchactivation",
    "batches.view_procedure",
    "batches.view_procedureversion",
    "batches.view_trainingrecord",
    "batches.view_equipment",
    "batches.view_equipmentcalibration",
    "batches.view_equipmentmaintenance",
    "batches.view_equipmentfailure",
    "batches.view_equipmentuse",
    "batches.view_feederirradiation",
    "qc.view_qcspecset",
    "qc.view_qctest",
    "qc.view_qcalert",
    "qc.view_trendattribute",
    "qc.view_trendbaseline",
    "qc.view_trendsignal",
    "batches.view_room",
    "qc.view_samplingpoint",
    "qc.view_emsample",
    "qc.view_emlimit",
    "qc.view_emexcursiondeviation",
    "qc.view_oosinvestigation",
    "batches.view_capa",
]

# Every view permission of every app (the administrator reads everything).
ALL_VIEW = "*.view_*"
# What administration is: people and their roles, instruments and their keys, and new draft
# versions of templates and spec sets (approving them is QA's). Every other write is a GMP
# decision or record, held only through the roles that own it.
ADMINISTRATION = [
    "auth.add_user",
    "auth.change_user",
    "auth.add_group",
    "auth.change_group",
    "qc.add_instrument",
    "qc.change_instrument",
    "qc.add_instrumentkey",
    "qc.change_instrumentkey",
    "batches.add_processtemplate",
    "qc.add_qcspecset",
]

# app_label.codename per role. Custom codenames are declared in each model's Meta.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.TECHNICIAN: [
        *_VIEW_ALL,
        "batches.add_cordbloodunit",  # receive and register a unit
        "batches.store_cordbloodunit",  # move it between storage locations
        "batches.record_donor_test",  # the donor's test results from the bank's papers
        "batches.add_vectorlot",
        "batches.add_feederlot",
        "batches.add_reagentlot",
        "batches.upload_certificate",  # the supplier's CoA, kept with the lot received
        "batches.adjust_stock",  # count corrections, breakage
        "batches.add_batch",
        "batches.transition_batch",
        "batches.record_step",
        "batches.record_count",
        "batches.open_deviation",
        "batches.record_custody",
        "batches.formulate_doseunit",
        "batches.print_label",  # labels the bags it fills
        "batches.hand_off_dose",  # hands a bag out of the lab
        "qc.record_qc_sample",
        "qc.submit_reading",
        "qc.view_instrumentimport",
        "qc.record_em_sample",  # settle plates and glove prints in the room they work in
        # The floor looks after its equipment: calibrations and maintenance as done, a
        # failure as found, and the irradiation of the feeder cells it prepares.
        "batches.service_equipment",
        "batches.report_equipment_failure",
        "batches.record_irradiation",
        "batches.complete_capa",  # a CAPA they own
    ],
    Role.QC_ANALYST: [
        *_VIEW_ALL,
        "batches.record_count",
        "batches.open_deviation",
        "qc.record_qc_sample",
        "qc.enter_qc_result",
        "qc.review_qc_result",
        # The analyst investigates an out-of-specification result (phase I, in the lab).
        "qc.complete_oos_investigation",
        "batches.complete_capa",  # a CAPA they own
        "qc.submit_reading",
        "qc.view_instrumentimport",
        "qc.view_instrumentreading",
        # Environmental monitoring is QC microbiology's: the points, the plates and their
        # reading (an action-level result opens the batches' deviations).
        "qc.manage_sampling_point",
        "qc.record_em_sample",
        "qc.read_em_result",
        "batches.report_equipment_failure",  # a cell counter found faulty
    ],
    Role.QA: [
        *_VIEW_ALL,
        "batches.determine_eligibility",
        "batches.allocate_cordbloodunit",
        "batches.discard_cordbloodunit",
        "batches.disposition_vectorlot",
        "batches.disposition_feederlot",
        "batches.disposition_reagentlot",
        "batches.approve_processtemplate",
        "batches.change_productdefinition",  # codes, label statements, storage, stability
        # QA keeps the training matrix: the procedures, their versions, what each step asks,
        # and each person's training records.
        "batches.issue_procedure",
        "batches.record_training",
        "batches.release_batch",
        "batches.recall_batch",
        "batches.disposition_deviation",
        # Deviations are classified and acted on by QA; the owner of a CAPA records it done.
        "batches.classify_deviation",
        "batches.raise_capa",
        "batches.complete_capa",
        "batches.verify_capa",
        "qc.approve_oos_investigation",
        "batches.transition_batch",
        "batches.open_deviation",
        "batches.hand_off_dose",  # releases a bag from the lab
        "batches.print_label",  # relabels a bag it releases
        "qc.approve_qcspecset",
        "qc.fix_trend_baseline",  # the control limits of continued process verification
        "qc.assess_trend_signal",
        "qc.review_qc_result",
        "batches.manage_room",  # the rooms and their grades
        # Which equipment is in service, quarantined or out of service is QA's decision.
        "batches.manage_equipment",
        "batches.service_equipment",
        "batches.report_equipment_failure",
    ],
    Role.CLINICAL: [
        *_VIEW_ALL,
        "batches.add_recipient",
        "batches.change_recipient",
        "batches.record_weight",
        "batches.record_lymphodepletion",
        "batches.record_dsa",
        "batches.allocate_cordbloodunit",
        "batches.assign_dose",
        "batches.issue_dose",
        "batches.hand_off_dose",
        "batches.verify_at_bedside",
        "batches.record_infusion",
        "batches.report_adverse_event",
        "batches.add_safetyswitchactivation",
        "batches.record_follow_up",
    ],
    # Reads everything; manages people, roles, instruments and draft versions of templates
    # and specs; makes no GMP decision (segregation of duties, DESIGN section 8).
    Role.ADMIN: [ALL_VIEW, *ADMINISTRATION],
    # Instruments act through their keys as their service account; ActorMay keeps them to
    # the endpoints that declare `allow_instruments`.
    Role.INSTRUMENT: [
        "qc.submit_reading",
        "qc.view_instrumentreading",
        "qc.view_instrumentimport",
        "batches.record_count",
        "qc.enter_qc_result",
    ],
    # Carries bags between the lab and the ward: signs for them in hand-offs (ship, receive)
    # and sees the bags, nothing else.
    Role.COURIER: [
        "batches.view_doseunit",
        "batches.hand_off_dose",
    ],
}


def is_gmp_write(permission: str) -> bool:
    """Every write that is not administration is a GMP record or decision."""
    return ".view_" not in permission and permission not in ADMINISTRATION


def _granted(actor: User | AnonymousUser) -> set[str]:
    """The permissions an actor holds through its roles and its own grants. The superuser
    flag grants nothing here: rights come from roles, so segregation of duties holds."""
    cached = getattr(actor, "_carnk_granted", None)
    if cached is None:
        cached = {
            f"{app}.{codename}"
            for app, codename in Permission.objects.filter(
                Q(group__user=actor) | Q(user=actor)
            ).values_list("content_type__app_label", "codename")
        }
        actor._carnk_granted = cached  # type: ignore[union-attr]  # a per-instance cache
        if actor.is_active and not actor.is_superuser:
            # The same set Django's ModelBackend reads for `user.has_perm` and the templates'
            # `perms` (a user's own grants and their groups'), so a page asks for it once.
            actor._perm_cache = cached  # type: ignore[attr-defined]  # ModelBackend's cache
    return cached


def actor_may(actor: User | AnonymousUser | None, permission: str) -> bool:
    """True when `actor` (a user, or an instrument acting through its key) may do this.
    An administrator's account makes no GMP decision, whatever other role it also holds."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if not getattr(actor, "is_active", True):
        return False
    if permission not in _granted(actor):
        return False
    administrator = actor.is_superuser or Role.ADMIN in roles_of(actor)
    return not (administrator and is_gmp_write(permission))


def require_permission(actor: User | AnonymousUser | None, permission: str) -> None:
    if not actor_may(actor, permission):
        raise PermissionDenied(f"You do not have permission to do this ({permission}).")


def roles_of(user: User | AnonymousUser | None) -> list[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_carnk_roles", None)
    if cached is None:
        cached = [g.name for g in user.groups.all() if g.name in Role.ALL]
        user._carnk_roles = cached  # type: ignore[union-attr]  # a per-instance cache
    return cached


def sync_roles(apps: Apps | None = None, *, strict: bool = False) -> None:
    """Create the role groups and give each exactly its permissions (idempotent).

    Each migration that adds permissions calls this again. An early migration runs with the
    current table but only the models of its time, so unknown permissions are skipped there;
    `strict=True` (used by a test on the final schema) refuses any that does not exist."""
    apps = apps or global_apps
    # Permissions are normally made after all migrations; make them now so roles can use them.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted: list[Any] = []  # Permission rows of the migration's historical model
        for perm in perms:
            if perm == ALL_VIEW:
                wanted.extend(Permission.objects.filter(codename__startswith="view_"))
                continue
            app_label, codename = perm.split(".", 1)
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is None:
                if strict:
                    raise LookupError(f"role {role}: permission {perm} does not exist")
                continue
            wanted.append(found)
        group.permissions.set(wanted)


def navigation(request: HttpRequest) -> dict[str, list[str]]:
    """Template context: the signed-in user's roles, for navigation shown by role."""
    user = getattr(request, "user", None)
    return {"user_roles": roles_of(user) if user is not None else []}


def roles_holding(permission: str) -> list[str]:
    """The names of the roles that hold `permission` (for "done by a QA reviewer" on an
    action a user's own roles do not allow)."""
    return [Role.LABELS[role] for role, perms in ROLE_PERMISSIONS.items() if permission in perms]
