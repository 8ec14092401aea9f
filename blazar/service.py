"""Process start-up shared by every command."""
import logging
import sys

from oslo_config import cfg
from oslo_log import log

from blazar import conf  # noqa: F401  registers options
from blazar import launcher
from blazar.conf import upstream as upstream_conf
from blazar.db import migration

CONF = cfg.CONF
_EXTRA_LOGGERS = ['stevedore=WARN', 'oslo_policy=WARN', 'urllib3=WARN',
                  'keystoneauth=WARN', 'novaclient=WARN', 'oslo.messaging=WARN',
                  'oslo_messaging=WARN', 'amqp=WARN', 'kombu=WARN', 'alembic=WARN',
                  'oslo_db=WARN',
                  # [oslo_messaging_notifications] driver = log writes each
                  # notification at INFO under this logger: let it through.
                  'oslo.messaging.notification=INFO']


def prepare(argv=None, default_config_files=None, reports=None):
    """Parse the command line and configuration files and set up logging;
    ``reports``: the service name under which a Guru Meditation Report is
    written on SIGUSR2 (long-running commands)."""
    log.register_options(CONF)
    launcher.register_opts(CONF)
    log.set_defaults(default_log_levels=log.get_default_log_levels() + _EXTRA_LOGGERS)
    CONF(sys.argv[1:] if argv is None else argv, project='blazar',
         default_config_files=default_config_files)
    log.setup(CONF, 'blazar')
    logging.captureWarnings(True)
    upstream_conf.warn_ignored(CONF)
    if reports:
        launcher.setup_reports(reports)


def check_schema():
    """Refuse to run on a store whose schema is behind the code."""
    current, head = migration.current_revision(), migration.head_revision()
    if current in (migration.upstream.UPSTREAM_HEAD,) + migration.upstream.UPSTREAM_OLDER:
        sys.exit('The database holds upstream Blazar\'s schema (revision %s): back it '
                 'up, then convert it with "blazar-db-manage --config-file <file> '
                 'upgrade head" (doc/source/admin/upgrade-from-upstream.rst).' % current)
    if current != head:
        sys.exit('The database schema is at %s, the code needs %s: run '
                 '"blazar-db-manage --config-file <file> upgrade head".'
                 % (current, head))
