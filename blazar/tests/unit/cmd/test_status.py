"""blazar-status upgrade check: each check's success, warning and failure,
against real SQLite databases and the simulated Nova, and the command's
exit code and output end to end."""
import json
import os
import subprocess
import sys

from oslo_config import cfg
import pytest
import sqlalchemy as sa

from blazar import context
from blazar.cmd import status
from blazar.db import api as db_api
from blazar.db import migration
from blazar.plugins.hosts import inventory
from blazar.simulator import server as sim_server
from blazar.simulator import state as sim_state
from blazar.simulator import testing as sim_testing

CONF = cfg.CONF
BIN = os.path.dirname(sys.executable)


def use_database(url):
    CONF.set_override('connection', url, group='database')
    db_api.reset_facade()


@pytest.fixture(autouse=True)
def _reset_facade():
    yield
    db_api.reset_facade()


# --- database schema ---------------------------------------------------

def test_database_at_head_is_a_success(sqlite_database):
    result = status.check_database()
    assert result.code == status.SUCCESS
    assert migration.head_revision() in result.details


def test_empty_database_fails_and_says_how_to_fix(tmp_path):
    use_database('sqlite:///%s' % (tmp_path / 'empty.sqlite'))
    result = status.check_database()
    assert result.code == status.FAILURE
    assert 'blazar-db-manage' in result.details and 'upgrade head' in result.details


def test_database_behind_the_code_fails(tmp_path):
    use_database('sqlite:///%s' % (tmp_path / 'old.sqlite'))
    migration.upgrade('head')
    migration.downgrade('base')
    migration.stamp('base')
    assert migration.current_revision() is None
    assert status.check_database().code == status.FAILURE


def test_database_from_a_newer_release_fails(tmp_path):
    use_database('sqlite:///%s' % (tmp_path / 'new.sqlite'))
    migration.upgrade('head')
    with db_api.get_engine().begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f00d'"))
    result = status.check_database()
    assert result.code == status.FAILURE
    assert 'f00d' in result.details and 'unknown revision' in result.details
    assert "neither one of this code nor upstream Blazar 18's" in result.details


def _stamped_database(tmp_path, revision, tables=()):
    """A SQLite database with only an Alembic version (and empty
    tables): what the checks read of an upstream database."""
    use_database('sqlite:///%s' % (tmp_path / 'upstream.sqlite'))
    with db_api.get_engine().begin() as conn:
        conn.execute(sa.text('CREATE TABLE alembic_version (version_num VARCHAR(32))'))
        conn.execute(sa.text('INSERT INTO alembic_version VALUES (:v)'), {'v': revision})
        for table in tables:
            conn.execute(sa.text('CREATE TABLE %s (id VARCHAR(36))' % table))


def test_upstream_database_is_recognised(tmp_path):
    _stamped_database(tmp_path, '553383923ca0',
                      ('leases', 'reservations', 'computehosts', 'floatingips'))
    with db_api.get_engine().begin() as conn:
        conn.execute(sa.text("INSERT INTO leases VALUES ('l1'), ('l2')"))
    result = status.check_database()
    assert result.code == status.FAILURE
    assert "upstream Blazar 18's schema (revision 553383923ca0; 0 computehosts, " \
        "0 floatingips, 2 leases, 0 reservations)" in result.details
    assert 'upgrade head' in result.details and 'back the database up' in result.details


def test_interrupted_conversion_is_recognised(tmp_path):
    _stamped_database(tmp_path, '553383923ca0', ('upstream18_leases',))
    result = status.check_database()
    assert result.code == status.FAILURE
    assert 'was interrupted' in result.details and 'upgrade head' in result.details


def test_older_upstream_database_is_sent_to_upstream_first(tmp_path):
    _stamped_database(tmp_path, '02e2f2186d98')
    result = status.check_database()
    assert result.code == status.FAILURE
    assert 'older than upstream Blazar 18' in result.details
    assert "upstream Blazar 18.0.0's \"blazar-db-manage upgrade head\"" in result.details
    with pytest.raises(migration.ConversionError, match='older than upstream'):
        migration.upgrade('head')


def test_unreadable_database_fails(tmp_path):
    (tmp_path / 'a-file').write_text('')
    use_database('sqlite:///%s' % (tmp_path / 'a-file' / 'blazar.sqlite'))
    result = status.check_database()
    assert result.code == status.FAILURE
    assert 'Cannot read the schema version' in result.details


# --- plugins -----------------------------------------------------------

def test_configured_plugins_load():
    result = status.check_plugins()
    assert result.code == status.SUCCESS
    assert 'physical.host.plugin (physical:host)' in result.details


def test_unknown_plugin_fails():
    CONF.set_override('plugins', ['physical.host.plugin', 'no.such.plugin'],
                      group='manager')
    result = status.check_plugins()
    assert result.code == status.FAILURE
    assert 'no.such.plugin' in result.details


def test_no_plugin_is_a_warning():
    CONF.set_override('plugins', [], group='manager')
    assert status.check_plugins().code == status.WARNING


# --- Nova freepool -------------------------------------------------------

def test_nova_not_configured_is_a_warning():
    result = status.check_freepool()
    assert result.code == status.WARNING
    assert 'not configured' in result.details


def test_freepool_present_is_a_success(sqlite_database):
    with sim_testing.simulated_nova(sim_state.Cloud(hosts=2)) as srv:
        agg = srv.cloud.create_aggregate('freepool')
        srv.cloud.aggregate_add_host(agg['id'], 'compute-1')
        result = status.check_freepool()
    assert result.code == status.SUCCESS
    assert '1 host(s)' in result.details


def test_freepool_named_in_config_is_the_one_looked_for(sqlite_database):
    CONF.set_override('aggregate_freepool_name', 'blazar-free', group='nova')
    with sim_testing.simulated_nova(sim_state.Cloud(hosts=1)) as srv:
        srv.cloud.create_aggregate('freepool')
        assert status.check_freepool().code == status.WARNING
        srv.cloud.create_aggregate('blazar-free')
        assert status.check_freepool().code == status.SUCCESS


def test_missing_freepool_without_hosts_is_a_warning(sqlite_database):
    with sim_testing.simulated_nova(sim_state.Cloud(hosts=1)):
        result = status.check_freepool()
    assert result.code == status.WARNING
    assert 'created when the first host is enrolled' in result.details


def test_missing_freepool_with_enrolled_hosts_fails(sqlite_database):
    with sim_testing.simulated_nova(sim_state.Cloud(hosts=2)) as srv:
        inventory.create_host(context.get_admin_context(), {'name': 'compute-1'})
        freepool = [a for a in srv.cloud.list_aggregates() if a['name'] == 'freepool'][0]
        srv.cloud.aggregate_remove_host(freepool['id'], 'compute-1')
        srv.cloud.delete_aggregate(freepool['id'])
        result = status.check_freepool()
    assert result.code == status.FAILURE
    assert '1 host(s) are enrolled' in result.details


def test_unreachable_nova_is_a_warning(sqlite_database):
    srv = sim_server.start_simulator(sim_state.Cloud(hosts=1))
    url = srv.compute_url
    srv.stop()   # nothing listens there any more
    undo = sim_testing.point_nova_at(url)
    try:
        result = status.check_freepool()
    finally:
        undo()
    assert result.code == status.WARNING
    assert 'could not be asked' in result.details


# --- deprecated options --------------------------------------------------

def load_config(tmp_path, text):
    path = tmp_path / 'blazar.conf'
    path.write_text(text)
    CONF(['--config-file', str(path)], project='blazar', default_config_files=[])
    return path


def test_no_deprecated_option_is_a_success(tmp_path):
    load_config(tmp_path, '[nova]\nproject_name = service\nusername = blazar\n')
    result = status.check_deprecated_options()
    assert result.code == status.SUCCESS, result.details


def test_an_old_option_name_is_a_warning(tmp_path):
    path = load_config(tmp_path, '[nova]\ntenant_name = service\n')
    result = status.check_deprecated_options()
    assert result.code == status.WARNING
    assert '[nova] tenant_name is deprecated, use [nova] project_name' in result.details
    assert str(path) in result.details


def test_any_deprecated_option_is_found(tmp_path, monkeypatch):
    """The check is generic: whatever option is deprecated, by a new name,
    a new group or for removal, is reported once set."""
    opts = [cfg.StrOpt('new_name', deprecated_name='old_name',
                       deprecated_group='DEFAULT'),
            cfg.IntOpt('doomed', deprecated_for_removal=True,
                       deprecated_reason='it does nothing'),
            cfg.StrOpt('fine')]
    monkeypatch.setattr(status, 'option_sources',
                        lambda: iter([('widgets', opts)]))
    load_config(tmp_path, '[DEFAULT]\nold_name = a\n[widgets]\ndoomed = 1\nfine = x\n')
    result = status.check_deprecated_options()
    assert result.code == status.WARNING
    assert '[DEFAULT] old_name is deprecated, use [widgets] new_name' in result.details
    assert '[widgets] doomed is deprecated for removal (it does nothing)' in result.details
    assert 'fine' not in result.details


def test_every_option_namespace_is_searched():
    groups = {group for group, _opts in status.option_sources()}
    assert {'DEFAULT', 'manager', 'nova', 'database', 'keystone_authtoken',
            'oslo_messaging_rabbit', 'cors'} <= {g or 'DEFAULT' for g in groups}


# --- the command -------------------------------------------------------

def run_status(config_file):
    return subprocess.run(
        [os.path.join(BIN, 'blazar-status'), '--config-file', str(config_file),
         'upgrade', 'check', '--json'],
        capture_output=True, text=True, timeout=120)


def results(proc):
    return {c['check']: c['result'] for c in json.loads(proc.stdout)['checks']}


def test_command_fails_on_a_fresh_database(tmp_path):
    conf_file = tmp_path / 'blazar.conf'
    conf_file.write_text('[database]\nconnection = sqlite:///%s\n'
                         % (tmp_path / 'blazar.sqlite'))
    proc = run_status(conf_file)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert results(proc)['Database schema'] == 2


def test_command_succeeds_on_a_ready_deployment(tmp_path):
    db_url = 'sqlite:///%s' % (tmp_path / 'blazar.sqlite')
    use_database(db_url)
    migration.upgrade('head')
    srv = sim_server.start_simulator(sim_state.Cloud(hosts=1))
    try:
        srv.cloud.create_aggregate('freepool')
        conf_file = tmp_path / 'blazar.conf'
        conf_file.write_text(
            '[DEFAULT]\nauth_strategy = noauth\n[database]\nconnection = %s\n'
            '[nova]\nauth_type = admin_token\nendpoint = %s\ntoken = admin:admin\n'
            % (db_url, srv.compute_url))
        proc = run_status(conf_file)
    finally:
        srv.stop()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(results(proc).values()) == {0}
    assert 'Nova freepool aggregate' in results(proc)


def test_command_prints_a_table_and_warns(tmp_path):
    db_url = 'sqlite:///%s' % (tmp_path / 'blazar.sqlite')
    use_database(db_url)
    migration.upgrade('head')
    conf_file = tmp_path / 'blazar.conf'
    conf_file.write_text('[DEFAULT]\nauth_strategy = noauth\n'
                         '[database]\nconnection = %s\n' % db_url)
    proc = subprocess.run(
        [os.path.join(BIN, 'blazar-status'), '--config-file', str(conf_file),
         'upgrade', 'check'], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'Check: Nova freepool aggregate' in proc.stdout
    assert 'Result: Warning' in proc.stdout
