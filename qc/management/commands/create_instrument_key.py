"""`manage.py create_instrument_key SERIAL [--label ...]`: issue a key; it is printed once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from qc.models import Instrument
from qc.services.instruments import instrument_key_create


class Command(BaseCommand):
    help = "Issue an API key for an instrument and print it (shown this once only)."

    def add_arguments(self, parser):
        parser.add_argument("serial_number")
        parser.add_argument("--label", default="")
        parser.add_argument("--by", default="admin", help="username of the administrator")

    def handle(self, *args, serial_number, label, by, **options):
        instrument = Instrument.objects.filter(serial_number=serial_number).first()
        if instrument is None:
            raise CommandError(f"No instrument with serial number {serial_number!r}.")
        actor = get_user_model().objects.filter(username=by).first()
        if actor is None:
            raise CommandError(f"No user {by!r}.")
        key, raw = instrument_key_create(actor=actor, instrument=instrument, label=label)
        self.stdout.write(f"Key for {instrument} (prefix {key.prefix}); store it now:")
        self.stdout.write(raw)
