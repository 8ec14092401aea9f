"""Schema migrations (Alembic), run against the engine of ``blazar.db.api``.

A database that upstream OpenStack Blazar 18 made (Alembic revision
``553383923ca0``) is first converted in place to revision ``0005``
(:mod:`blazar.db.migration.upstream`); the usual revisions follow.
"""
import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

from blazar.db import api as db_api
from blazar.db.migration import upstream

_HERE = os.path.dirname(__file__)
ConversionError = upstream.ConversionError


def alembic_cfg():
    cfg = alembic_config.Config(os.path.join(_HERE, 'alembic.ini'))
    cfg.set_main_option('script_location', os.path.join(_HERE, 'alembic_migrations'))
    return cfg


def scripts():
    return alembic_script.ScriptDirectory.from_config(alembic_cfg())


def _run(func, *args, **kwargs):
    cfg = alembic_cfg()
    with db_api.get_engine().begin() as connection:
        cfg.attributes['connection'] = connection
        func(cfg, *args, **kwargs)


def _reaches_conversion_target(revision):
    """Whether upgrading to ``revision`` passes through the revision an
    upstream database is converted to."""
    try:
        ancestry = scripts().iterate_revisions(revision, 'base')
        return any(script.revision == upstream.TARGET for script in ancestry)
    except Exception:   # an unknown revision: alembic says so later
        return True


def upgrade(revision='head'):
    """Upgrade the schema; returns the report of an upstream conversion
    (:class:`upstream.Report`) when there was one, else None."""
    report = None
    with db_api.get_engine().begin() as connection:
        if upstream.version(connection) in (upstream.UPSTREAM_HEAD,) + upstream.UPSTREAM_OLDER:
            if not _reaches_conversion_target(revision):
                raise ConversionError(
                    'An upstream Blazar database converts to revision %s; %s comes '
                    'before it. Upgrade to %s or later (e.g. head).'
                    % (upstream.TARGET, revision, upstream.TARGET))
            report = upstream.convert(connection, alembic_cfg())
    _run(alembic_command.upgrade, revision)
    return report


def downgrade(revision):
    _run(alembic_command.downgrade, revision)


def stamp(revision):
    _run(alembic_command.stamp, revision)


def current_revision():
    with db_api.get_engine().connect() as connection:
        return alembic_migration.MigrationContext.configure(connection).get_current_revision()


def head_revision():
    return scripts().get_current_head()


def describe_upstream():
    """What :func:`upstream.describe` says of the configured database."""
    with db_api.get_engine().connect() as connection:
        return upstream.describe(connection)


def history(verbose=False):
    """Print the revisions, newest first, and where an upstream database
    joins them."""
    alembic_command.history(alembic_cfg(), verbose=verbose)
    print('%s (upstream Blazar 18) -> %s, converted in place by "upgrade"'
          % (upstream.UPSTREAM_HEAD, upstream.TARGET))


def _next_revision_id():
    head = head_revision()
    return '%04d' % (int(head) + 1) if head and head.isdigit() else None


def revision(message, autogenerate=False):
    """Write a new revision script after the head (numbered like the
    others); with ``autogenerate``, filled with what the models have that
    the configured database (at head) lacks. Returns its path."""
    kwargs = dict(message=message, autogenerate=autogenerate,
                  rev_id=_next_revision_id())
    if not autogenerate:
        script = alembic_command.revision(alembic_cfg(), **kwargs)
    else:
        found = []
        _run(lambda cfg: found.append(alembic_command.revision(cfg, **kwargs)))
        script = found[0]
    return script.path


def check_schema():
    """Differences between the configured database's schema and the models
    (lines; empty when they agree). The database must be at head."""
    from alembic import autogenerate

    from blazar.db import models
    current, head = current_revision(), head_revision()
    if current != head:
        return ['The database is at %s, not at the head %s: run "blazar-db-manage '
                'upgrade head" first.' % (current, head)]
    with db_api.get_engine().connect() as connection:
        context = alembic_migration.MigrationContext.configure(
            connection, opts={'compare_type': True})
        differences = autogenerate.compare_metadata(context, models.Base.metadata)
    return ['%s' % (diff,) for diff in differences]
