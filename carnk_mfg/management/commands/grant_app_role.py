"""`manage.py grant_app_role [--role carnk_app] [--password ...]`: run after each migrate in
production, as the owning role, so the app's own role can read and append the trail but never
change it (see carnk_mfg.dbroles)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from carnk_mfg.dbroles import grant_app_role, trail_tables


class Command(BaseCommand):
    help = "Create/refresh the application's database role with append-only trail rights."

    def add_arguments(self, parser):
        parser.add_argument("--role", default=settings.APP_DB_ROLE)
        parser.add_argument("--password", default=None, help="Also allow it to log in.")

    def handle(self, *args, role, password, **options):
        grant_app_role(role, password=password)
        self.stdout.write(
            f"Role {role}: full rights on application tables, SELECT/INSERT only on "
            f"{len(trail_tables())} trail tables."
        )
