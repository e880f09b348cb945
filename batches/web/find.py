"""Scan anywhere: the header's search box opens the page of whatever identifier it is given
(`batches.selectors.find`); several records get a short chooser, none a page that says so."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from batches.selectors.find import MAX_FIND_LENGTH, find_records


@login_required
@require_GET
def find(request):
    found = find_records(request.GET.get("q", ""), actor=request.user)
    if len(found.matches) == 1:
        return redirect(found.matches[0].url)
    # What was searched is shown back, cut to what an identifier can be and printable only.
    shown = "".join(char for char in found.text[:MAX_FIND_LENGTH] if char.isprintable())
    return render(request, "find.html", {"found": found, "shown": shown})
