"""`manage.py grant_app_role [--role carnk_app] [--password ...]`: run after each migrate in
production, as the owning role, so the app's own role can read the trail and add to it only
through the owner's triggers and functions, never change it (see carnk_mfg.dbroles)."""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from carnk_mfg.dbroles import grant_app_role, may_create_temporary_tables, trail_tables


class Command(BaseCommand):
    help = "Create/refresh the application's database role with read-only trail rights."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--role", default=settings.APP_DB_ROLE)
        parser.add_argument("--password", default=None, help="Also allow it to log in.")

    def handle(self, *args: Any, role: str, password: str | None, **options: Any) -> None:
        grant_app_role(role, password=password)
        self.stdout.write(
            f"Role {role}: full rights on application tables, SELECT only on "
            f"{len(trail_tables())} trail tables; trail guard in place."
        )
        if may_create_temporary_tables(role):
            self.stderr.write(
                f"Warning: {role} may still create temporary tables. Run this command as the "
                "database's owner, or have it run REVOKE TEMPORARY ON DATABASE ... FROM PUBLIC."
            )
