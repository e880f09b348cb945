"""A user's in-app notices (QC alerts and follow-up visits), for their page and the nav
badge."""

from __future__ import annotations

from qc.models import Channel, Notification


def in_app_notices(user):
    return Notification.objects.filter(recipient=user, channel=Channel.IN_APP)


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
        )
        .order_by("-created_at", "-id")
    )


def unread_count(user) -> int:
    return in_app_notices(user).filter(read_at=None).count()
