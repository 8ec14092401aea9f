"""blazar-db-manage's commands beside upgrade: history, check_migration,
revision (the upstream conversion itself: blazar/tests/functional/
test_upstream_upgrade.py)."""
import os
import shutil
import subprocess
import sys

from oslo_config import cfg
import sqlalchemy as sa

from blazar.db import api as db_api
from blazar.db import migration

CONF = cfg.CONF
BIN = os.path.dirname(sys.executable)


def manage(tmp_path, *args):
    config = tmp_path / 'blazar.conf'
    config.write_text('[database]\nconnection = sqlite:///%s\n' % (tmp_path / 'b.sqlite'))
    return subprocess.run([os.path.join(BIN, 'blazar-db-manage'), '--config-file',
                           str(config)] + list(args),
                          capture_output=True, text=True, timeout=120)


def test_history_lists_the_revisions_and_where_upstream_joins(tmp_path):
    result = manage(tmp_path, 'history')
    assert result.returncode == 0, result.stderr
    assert '<base> -> 0001' in result.stdout
    assert '%s (head)' % migration.head_revision() in result.stdout
    assert '553383923ca0 (upstream Blazar 18) -> 0005' in result.stdout


def test_check_migration_compares_the_database_with_the_models(tmp_path):
    result = manage(tmp_path, 'check_migration')
    assert result.returncode == 1
    assert 'upgrade head' in result.stdout
    assert manage(tmp_path, 'upgrade', 'head').returncode == 0
    result = manage(tmp_path, 'check_migration')
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'The schema matches the models' in result.stdout
    engine = sa.create_engine('sqlite:///%s' % (tmp_path / 'b.sqlite'))
    with engine.begin() as conn:
        conn.execute(sa.text('ALTER TABLE leases ADD COLUMN colour VARCHAR(10)'))
        conn.execute(sa.text('DROP INDEX ix_leases_end_date'))
    engine.dispose()
    result = manage(tmp_path, 'check_migration')
    assert result.returncode == 1
    assert 'colour' in result.stdout and 'ix_leases_end_date' in result.stdout


def test_revision_writes_the_next_numbered_script(tmp_path, monkeypatch):
    here = tmp_path / 'migration'
    source = os.path.dirname(migration.__file__)
    shutil.copytree(source, here, ignore=shutil.ignore_patterns('__pycache__', '*.py[co]'))
    monkeypatch.setattr(migration, '_HERE', str(here))
    head = migration.head_revision()
    path = migration.revision('Add widgets')
    expected = '%04d' % (int(head) + 1)
    assert os.path.basename(path) == '%s_add_widgets.py' % expected
    text = open(path).read()
    assert "revision = '%s'" % expected in text
    assert "down_revision = '%s'" % head in text
    assert migration.head_revision() == expected


def test_revision_autogenerate_fills_in_what_the_models_add(tmp_path, monkeypatch):
    here = tmp_path / 'migration'
    shutil.copytree(os.path.dirname(migration.__file__), here,
                    ignore=shutil.ignore_patterns('__pycache__', '*.py[co]'))
    monkeypatch.setattr(migration, '_HERE', str(here))
    CONF.set_override('connection', 'sqlite:///%s' % (tmp_path / 'a.sqlite'),
                      group='database')
    db_api.reset_facade()
    try:
        migration.upgrade('head')
        with db_api.get_engine().begin() as conn:
            conn.execute(sa.text('DROP INDEX ix_leases_end_date'))
        path = migration.revision('Index lease ends', autogenerate=True)
    finally:
        db_api.reset_facade()
    assert "op.create_index('ix_leases_end_date'" in open(path).read()
