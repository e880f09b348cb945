"""The home page (also at /dashboard/): what each role needs to see first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from batches.presenters.dashboard import home_page


@login_required
def dashboard(request):
    """Units by status, lots expiring soon, links for the user's roles."""
    return render(request, "home.html", home_page(request.user, today=timezone.localdate()))
