"""The Celery application: one module, settings under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnk_mfg.settings")

app = Celery("carnk_mfg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
