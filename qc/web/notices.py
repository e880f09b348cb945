"""In-app notices: the signed-in user's list, marking them read, and the unread count on the
nav badge."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from qc.presenters.notices import notices_for_page, unread_count
from qc.selectors.notices import in_app_notices
from qc.services.notices import notice_mark_read, notices_mark_all_read

NOTICES_PER_PAGE = 50


@login_required
def notices(request):
    """The signed-in user's in-app notices, newest first."""
    page = Paginator(notices_for_page(request.user), NOTICES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "qc/notices.html", {"page": page, "unread_count": unread_count(request.user)}
    )


@login_required
@require_POST
def notice_read(request, pk):
    notice_mark_read(
        actor=request.user, notice=get_object_or_404(in_app_notices(request.user), pk=pk)
    )
    return redirect("qc-notices")


@login_required
@require_POST
def notices_read_all(request):
    marked = notices_mark_all_read(actor=request.user)
    messages.success(request, f"{marked} notice{'' if marked == 1 else 's'} marked read.")
    return redirect("qc-notices")


def unread_notices(request) -> dict:
    """Template context processor: the count of unread in-app notices whose cause is still
    open, for the nav badge. Listed in TEMPLATES["OPTIONS"]["context_processors"] as
    "qc.web.notices.unread_notices"."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": unread_count(user)}
