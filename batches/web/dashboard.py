"""The home page (also at /dashboard/): each role's work first; and one worklist in full."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from batches.presenters.dashboard import home_page
from batches.presenters.work import worklist_named
from carnk_mfg.roles import actor_may
from carnk_mfg.web import deny

WORK_ROWS_PER_PAGE = 50


@login_required
def dashboard(request):
    """Each of the user's roles' worklists, units by status, lots expiring soon."""
    now = timezone.now()
    return render(
        request, "home.html", home_page(request.user, today=timezone.localdate(now), now=now)
    )


@login_required
def worklist(request, key):
    """One worklist in full (those with no page of their own), with the home page's query;
    `?recipients=all`: a clinician's list for every recipient, not only their own."""
    found = worklist_named(key)
    if found is None:
        raise Http404("No such worklist.")
    if not actor_may(request.user, found.permission):
        deny(found.permission)
    now = timezone.now()
    everyone = found.everyone if request.GET.get("recipients") == "all" else None
    items = everyone(now) if everyone is not None else found.query(request.user, now)
    page = Paginator(items, WORK_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "work/list.html",
        {
            "worklist": found,
            "page": page,
            "rows": [found.row(i) for i in page.object_list],
            "everyone": everyone is not None,
            # Not `worklist.everyone` in the template: a template calls what it is given.
            "has_everyone": found.everyone is not None,
        },
    )
