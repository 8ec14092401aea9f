"""Schema migrations (Alembic), run against the engine of ``blazar.db.api``."""
import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

from blazar.db import api as db_api

_HERE = os.path.dirname(__file__)


def alembic_cfg():
    cfg = alembic_config.Config(os.path.join(_HERE, 'alembic.ini'))
    cfg.set_main_option('script_location', os.path.join(_HERE, 'alembic_migrations'))
    return cfg


def _run(func, *args, **kwargs):
    cfg = alembic_cfg()
    with db_api.get_engine().begin() as connection:
        cfg.attributes['connection'] = connection
        func(cfg, *args, **kwargs)


def upgrade(revision='head'):
    _run(alembic_command.upgrade, revision)


def downgrade(revision):
    _run(alembic_command.downgrade, revision)


def stamp(revision):
    _run(alembic_command.stamp, revision)


def current_revision():
    with db_api.get_engine().connect() as connection:
        return alembic_migration.MigrationContext.configure(connection).get_current_revision()


def head_revision():
    return alembic_script.ScriptDirectory.from_config(alembic_cfg()).get_current_head()
