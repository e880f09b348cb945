"""A user's in-app notices (QC alerts, follow-up visits, recalls), for their page and the nav
badge; which still stand is `qc.selectors.notices`."""

from __future__ import annotations

from qc.selectors.notices import in_app_notices, unread_notices


def notices_for_page(user):
    """The user's in-app notices, newest first, with what each names."""
    return (
        in_app_notices(user)
        .select_related(
            "alert",
            "alert__test",
            "alert__test__batch",
            "alert__test__definition",
            "visit__recipient",
            "recall__batch",
        )
        .order_by("-created_at", "-id")
    )


def unread_count(user) -> int:
    return unread_notices(user).count()
