"""In-app notices: the signed-in user's list, and the unread count on the nav badge."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from qc.presenters.notices import notices_for_page, unread_count

NOTICES_PER_PAGE = 50


@login_required
def notices(request):
    """The signed-in user's in-app notices, newest first (read-only)."""
    page = Paginator(notices_for_page(request.user), NOTICES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "qc/notices.html", {"page": page, "unread_count": unread_count(request.user)}
    )


def unread_notices(request) -> dict:
    """Template context processor: the count of unread in-app notices for the nav badge.
    Listed in TEMPLATES["OPTIONS"]["context_processors"] as "qc.web.notices.unread_notices"."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": unread_count(user)}
