"""WSGI entry point for gunicorn: `gunicorn carnk_mfg.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnk_mfg.settings")
application = get_wsgi_application()
