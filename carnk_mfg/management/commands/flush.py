"""`manage.py flush` empties every table on purpose (Django's test runner runs it after each
transactional test), so it tells the trail's TRUNCATE guard to let it through, for its own
transaction only. Only a session of the owning role is heard (carnk_mfg.dbroles); for anyone
else the guard still refuses."""

from typing import Any

from django.core.management.commands import flush

from carnk_mfg.dbroles import trail_truncate_allowed


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with trail_truncate_allowed(options["database"]):
            return super().handle(**options)
