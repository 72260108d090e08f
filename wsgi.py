"""WSGI entry point: ``gunicorn wsgi:app``."""

from service.app import create_app
from service.runtime import freeze_startup_heap

app = create_app()
freeze_startup_heap(app.extensions["vcc_settings"].gc_freeze)
