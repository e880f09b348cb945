"""Who may call an API operation: the same question every entry path asks (`actor_may`)."""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from carnk_mfg.roles import actor_may


class ActorMay(permissions.BasePermission):
    """Checks `view.action_permissions[action]` with the same helper the services use, so a
    request without the permission gets 403 before its input is even read."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if getattr(request.user, "is_instrument", False) and not getattr(
            view, "allow_instruments", False
        ):
            return False  # an instrument key reaches only the instrument endpoints
        action = getattr(view, "action", None)
        if action is None:
            return True  # no handler for this method: DRF answers 405, nothing runs
        # Every viewset guarded by ActorMay maps its actions to permissions.
        needed = view.action_permissions.get(action)  # type: ignore[attr-defined]  # see above
        if needed is None:
            return False  # an action nobody mapped is closed, not open
        return actor_may(request.user, needed)
