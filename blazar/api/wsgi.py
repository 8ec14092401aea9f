"""WSGI entry point for uwsgi/gunicorn: ``blazar.api.wsgi:application``.

Reads /etc/blazar/blazar.conf (or $BLAZAR_CONFIG_FILE). Under a WSGI
server the signals belong to the server: a Guru Meditation Report is
written when the file named by ``[oslo_reports] file_event_handler``
changes, if set.
"""
import os

from oslo_config import cfg

from blazar import launcher
from blazar import service
from blazar.api import app as api_app


def init_application():
    config_file = os.environ.get('BLAZAR_CONFIG_FILE')
    service.prepare([], default_config_files=[config_file] if config_file else None)
    if cfg.CONF.oslo_reports.file_event_handler:
        launcher.setup_reports('blazar-api')
    return api_app.setup_app()


application = None
if os.environ.get('BLAZAR_WSGI_NO_AUTOLOAD') is None and __name__ != '__main__':
    try:
        application = init_application()
    except SystemExit:  # pragma: no cover - config error at import
        raise
