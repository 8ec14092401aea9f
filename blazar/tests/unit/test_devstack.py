"""The devstack plugin: bashate finds no error in it, and a dry run with
devstack's functions stubbed out takes every step the install needs."""
import glob
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DEVSTACK = os.path.join(ROOT, 'devstack')
BIN = os.path.dirname(sys.executable)


def devstack_files():
    return sorted(glob.glob(os.path.join(DEVSTACK, '*.sh'))) + \
        [os.path.join(DEVSTACK, 'settings')] + \
        sorted(glob.glob(os.path.join(DEVSTACK, 'upgrade', '*')))


def test_bashate_finds_no_error():
    bashate = os.path.join(BIN, 'bashate')
    if not os.path.exists(bashate):
        bashate = shutil.which('bashate')
    assert bashate, 'bashate is not installed: it is in test-requirements.txt'
    proc = subprocess.run([bashate, '-v'] + devstack_files(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, 'bashate found errors:\n%s%s' % (proc.stdout,
                                                                 proc.stderr)
    assert 'warning' not in proc.stdout.lower(), proc.stdout


def test_scripts_parse():
    for path in devstack_files():
        proc = subprocess.run(['bash', '-n', path], capture_output=True, text=True)
        assert proc.returncode == 0, '%s: %s' % (path, proc.stderr)


# Every devstack function the plugin calls, recording its arguments; the
# service list behaves as devstack's (ENABLED_SERVICES, run_process only
# runs an enabled service).
STUBS = """
log() { printf '%s\\n' "$*" >> "$CALLS"; }
for f in setup_develop pip_install create_service_user get_or_create_service \\
         get_or_create_endpoint iniset iniadd configure_keystone_authtoken_middleware \\
         setup_systemd_logging recreate_database stop_process echo_summary sudo \\
         write_uwsgi_config remove_uwsgi_config git_clone_by_name setup_dev_lib \\
         mysql dropdb; do
    eval "$f() { log $f \\"\\$@\\"; }"
done
die() { log die "$@"; exit 1; }
openstack() { log openstack "$@"; [[ "$*" != *' show '* ]]; }  # no aggregate yet
iniget() { :; }
iniget_multiline() { :; }
get_python_exec_prefix() { echo /opt/stack/bin; }
get_transport_url() { echo rabbit://stackrabbit:secret@10.0.0.1:5672/; }
database_connection_url() { echo mysql+pymysql://root:secret@127.0.0.1/$1?charset=utf8; }
trueorfalse() { local v=${!2:-$1}; echo $v; }
is_service_enabled() {
    local s
    for s in "$@"; do
        [[ ",$ENABLED_SERVICES," == *",$s,"* ]] && return 0
    done
    return 1
}
enable_service() {
    local s
    for s in "$@"; do
        is_service_enabled $s || ENABLED_SERVICES+=",$s"
    done
}
disable_service() {
    local s
    for s in "$@"; do
        ENABLED_SERVICES=$(echo ",$ENABLED_SERVICES," | sed "s/,$s,/,/; s/^,//; s/,$//")
    done
}
run_process() { is_service_enabled $1 && log run_process "$@"; return 0; }
use_library_from_git() { [[ ",$LIBS_FROM_GIT," == *",$1,"* ]]; }
wait_for_service() { log wait_for_service "$@"; return 0; }
declare -A GITREPO GITBRANCH GITDIR
"""

OTHERS = 'key,n-api,n-sch,keystone,horizon,tempest,mysql'
PANEL = '_90_project_reservations_panelgroup.py'


def dry_run(tmp_path, *phases, services=None, env=None, ok=True):
    """Source settings, then the plugin for each phase, as stack.sh does.
    ``services``: the job's ENABLED_SERVICES after the plugin's settings
    (default: what the settings enable, with Keystone, Nova, Horizon and
    tempest)."""
    calls = tmp_path / 'calls'
    calls.write_text('')
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    for tool in ('blazar-db-manage', 'blazar-manager'):
        (bin_dir / tool).write_text('#!/bin/sh\necho "%s $*" >> "$CALLS"\n' % tool)
        (bin_dir / tool).chmod(0o755)
    (bin_dir / 'blazar-status').write_text(
        '#!/bin/sh\necho "blazar-status $*" >> "$CALLS"\nexit ${BLAZAR_STATUS_RC:-0}\n')
    (bin_dir / 'blazar-status').chmod(0o755)
    # An installed blazar_dashboard with its panels, and Horizon.
    dashboard = tmp_path / 'site-packages' / 'blazar_dashboard'
    (dashboard / 'enabled').mkdir(parents=True, exist_ok=True)
    (dashboard / 'enabled' / PANEL).write_text('PANEL_GROUP = "reservations"\n')
    (tmp_path / 'horizon' / 'openstack_dashboard' / 'local' / 'enabled').mkdir(
        parents=True, exist_ok=True)
    (bin_dir / 'python').write_text('#!/bin/sh\necho %s\n' % dashboard)
    (bin_dir / 'python').chmod(0o755)
    script = STUBS + """
DEST=/opt/stack; SERVICE_HOST=10.0.0.1; SERVICE_PROTOCOL=http; API_WORKERS=2
REGION_NAME=RegionOne; SERVICE_PASSWORD=secret; SERVICE_PROJECT_NAME=service
SERVICE_DOMAIN_NAME=Default; KEYSTONE_SERVICE_URI=http://10.0.0.1/identity
NOVA_CONF=/etc/nova/nova.conf; STACK_USER=stack; DATA_DIR=/opt/stack/data
ENABLE_DEBUG_LOG_LEVEL=True; USE_SYSTEMD=True; SERVICE_TIMEOUT=60
TEMPEST_CONFIG=/opt/stack/tempest/etc/tempest.conf; GIT_BASE=https://opendev.org
HORIZON_DIR=%(horizon)s; PYTHON=%(bin)s/python
DATABASE_TYPE=${DATABASE_TYPE:-mysql}; DATABASE_USER=root; DATABASE_PASSWORD=secret
DATABASE_HOST=127.0.0.1
ENABLED_SERVICES=%(others)s
source %(settings)s
%(services)s
get_python_exec_prefix() { echo %(bin)s; }
for phase in %(phases)s; do
    source %(plugin)s ${phase/:/ }
done
""" % {'settings': os.path.join(DEVSTACK, 'settings'), 'bin': bin_dir,
       'plugin': os.path.join(DEVSTACK, 'plugin.sh'), 'phases': ' '.join(phases),
       'horizon': tmp_path / 'horizon', 'others': OTHERS,
       'services': '' if services is None else 'ENABLED_SERVICES=%s' % services}
    proc = subprocess.run(['bash', '-c', script], capture_output=True, text=True,
                          env=dict(os.environ, CALLS=str(calls), **(env or {})),
                          timeout=60)
    if ok:
        assert proc.returncode == 0, proc.stderr[-3000:]
    else:
        assert proc.returncode != 0, calls.read_text()
    return calls.read_text().splitlines()


STACK = ('stack:install', 'stack:post-config', 'stack:extra', 'stack:test-config')


def assert_steps(calls, expected):
    text = '\n'.join(calls)
    for step in expected:
        assert step in text, 'missing step %r in:\n%s' % (step, text)


def _panel_installed(tmp_path):
    return (tmp_path / 'horizon' / 'openstack_dashboard' / 'local' / 'enabled' /
            PANEL).exists()


def test_stack_takes_every_step(tmp_path):
    calls = dry_run(tmp_path, *STACK)
    text = '\n'.join(calls)
    assert_steps(calls, [
        'setup_develop /opt/stack/blazar',
        'pip_install uwsgi',
        'pip_install python-blazarclient',
        'pip_install blazar-nova',
        'pip_install blazar-dashboard',
        'create_service_user blazar admin',
        'get_or_create_service blazar reservation',
        # Behind Apache at /reservation: the endpoint matches.
        'get_or_create_endpoint reservation RegionOne http://10.0.0.1/reservation/v1',
        'sudo install -d -o stack /etc/blazar /opt/stack/data/blazar',
        'iniset /etc/blazar/blazar.conf DEFAULT auth_strategy keystone',
        'iniset /etc/blazar/blazar.conf DEFAULT transport_url rabbit://',
        'iniset /etc/blazar/blazar.conf database connection mysql+pymysql://'
        'root:secret@127.0.0.1/blazar',
        'configure_keystone_authtoken_middleware /etc/blazar/blazar.conf blazar',
        'iniset /etc/blazar/blazar.conf nova auth_type password',
        'iniset /etc/blazar/blazar.conf nova aggregate_freepool_name freepool',
        'write_uwsgi_config /etc/blazar/blazar-api-uwsgi.ini '
        'blazar.api.wsgi:application /reservation  blazar-api',
        'iniset /etc/blazar/blazar-api-uwsgi.ini uwsgi env '
        'BLAZAR_CONFIG_FILE=/etc/blazar/blazar.conf',
        'iniadd /etc/nova/nova.conf filter_scheduler available_filters '
        'blazarnova.scheduler.filters.blazar_filter.BlazarFilter',
        'iniset /etc/nova/nova.conf blazar:physical:host aggregate_freepool_name '
        'freepool',
        'recreate_database blazar',
        'blazar-db-manage --config-file /etc/blazar/blazar.conf upgrade head',
        'openstack --os-cloud devstack-admin aggregate create freepool',
        'run_process blazar-a %s/uwsgi --procname-prefix blazar-api --ini '
        '/etc/blazar/blazar-api-uwsgi.ini' % (tmp_path / 'bin'),
        'run_process blazar-m %s/blazar-manager --config-file /etc/blazar/blazar.conf'
        % (tmp_path / 'bin'),
        'wait_for_service 60 http://10.0.0.1/reservation/healthcheck',
        'blazar-status --config-file /etc/blazar/blazar.conf upgrade check',
        # test-config: tempest knows the service is there.
        'iniset /opt/stack/tempest/etc/tempest.conf service_available climate True',
        'iniset /opt/stack/tempest/etc/tempest.conf service_available blazar True',
        'iniset /opt/stack/tempest/etc/tempest.conf resource_reservation '
        'catalog_type reservation',
        'iniset /opt/stack/tempest/etc/tempest.conf resource_reservation '
        'lease_interval 10',
    ])
    # No uwsgi of its own on a port: Apache fronts it.
    assert 'http-socket' not in text and ':1234' not in text
    filters = [c for c in calls if 'filter_scheduler enabled_filters' in c]
    assert filters and filters[-1].endswith(',BlazarFilter')
    order = [text.index(s) for s in ('recreate_database blazar', 'blazar-db-manage',
                                      'run_process blazar-a', 'blazar-status',
                                      'service_available climate')]
    assert order == sorted(order)
    # The Horizon panels are enabled.
    assert _panel_installed(tmp_path)


@pytest.mark.parametrize('services', [
    'blazar,' + OTHERS,                     # the whole service by its one name
    'blazar-a,blazar-m,' + OTHERS,          # upstream's names only
])
def test_either_set_of_service_names_stacks_everything(tmp_path, services):
    calls = dry_run(tmp_path, *STACK, services=services)
    assert_steps(calls, ['setup_develop /opt/stack/blazar', 'recreate_database blazar',
                         'write_uwsgi_config /etc/blazar/blazar-api-uwsgi.ini',
                         'blazar-status --config-file', 'service_available climate'])
    started = [c.split()[1] for c in calls if c.startswith('run_process')]
    if services.startswith('blazar,'):
        # devstack runs only the processes whose names are enabled.
        assert started == []
    else:
        assert started == ['blazar-a', 'blazar-m']
        assert any(c.startswith('wait_for_service') for c in calls)


def test_one_process_disabled_runs_the_other(tmp_path):
    calls = dry_run(tmp_path, 'stack:extra', services='blazar,blazar-m,' + OTHERS)
    assert [c.split()[1] for c in calls if c.startswith('run_process')] == ['blazar-m']
    assert not any(c.startswith('wait_for_service') for c in calls)


def test_no_blazar_service_does_nothing(tmp_path):
    assert dry_run(tmp_path, *STACK, 'unstack', 'clean', services=OTHERS) == []


def test_without_nova_horizon_or_tempest_those_steps_are_skipped(tmp_path):
    calls = dry_run(tmp_path, *STACK, services='blazar,blazar-a,blazar-m,keystone')
    text = '\n'.join(calls)
    for step in ('blazar-nova', 'blazar-dashboard', '/etc/nova/nova.conf',
                 'aggregate create', 'tempest.conf'):
        assert step not in text
    assert not _panel_installed(tmp_path)


def test_libs_from_git(tmp_path):
    calls = dry_run(tmp_path, 'stack:install', env={
        'LIBS_FROM_GIT': 'python-blazarclient,blazar-nova,blazar-dashboard'})
    for lib in ('python-blazarclient', 'blazar-nova', 'blazar-dashboard'):
        assert 'git_clone_by_name %s' % lib in calls
        assert 'setup_dev_lib %s' % lib in calls
        assert 'pip_install %s' % lib not in calls
    assert 'pip_install uwsgi' in calls


def test_git_repositories_are_registered(tmp_path):
    script = STUBS + """
DEST=/opt/stack; GIT_BASE=https://opendev.org; ENABLED_SERVICES=
source %s
for lib in python-blazarclient blazar-nova blazar-dashboard; do
    echo "$lib ${GITREPO[$lib]} ${GITBRANCH[$lib]} ${GITDIR[$lib]}"
done
""" % os.path.join(DEVSTACK, 'settings')
    out = subprocess.run(['bash', '-c', script], capture_output=True, text=True,
                         env=dict(os.environ, CALLS=str(tmp_path / 'c')),
                         check=True).stdout.splitlines()
    assert out == ['%s https://opendev.org/openstack/%s.git master /opt/stack/%s'
                   % (lib, lib, lib)
                   for lib in ('python-blazarclient', 'blazar-nova', 'blazar-dashboard')]


def test_a_failing_upgrade_check_fails_the_stack(tmp_path):
    calls = dry_run(tmp_path, 'stack:extra', env={'BLAZAR_STATUS_RC': '2'}, ok=False)
    assert any(c.startswith('die ') and 'upgrade check failed' in c for c in calls)
    # A warning (exit code 1) is shown, not fatal.
    calls = dry_run(tmp_path, 'stack:extra', env={'BLAZAR_STATUS_RC': '1'})
    assert not any(c.startswith('die ') for c in calls)


@pytest.mark.parametrize('database', ['mysql', 'postgresql'])
def test_unstack_and_clean(tmp_path, database):
    dry_run(tmp_path, 'stack:post-config')
    assert _panel_installed(tmp_path)
    calls = dry_run(tmp_path, 'unstack', 'clean', env={'DATABASE_TYPE': database})
    assert 'stop_process blazar-a' in calls and 'stop_process blazar-m' in calls
    assert 'remove_uwsgi_config /etc/blazar/blazar-api-uwsgi.ini blazar-api' in calls
    assert 'sudo rm -rf /etc/blazar /opt/stack/data/blazar' in calls
    if database == 'mysql':
        assert 'mysql -uroot -psecret -h127.0.0.1 -e DROP DATABASE IF EXISTS blazar;' \
            in calls
    else:
        assert 'dropdb -h 127.0.0.1 -U root --if-exists blazar' in calls
    assert not _panel_installed(tmp_path)


@pytest.mark.parametrize('phase', ['stack:pre-install'])
def test_other_phases_do_nothing(tmp_path, phase):
    assert dry_run(tmp_path, phase) == []


def test_test_config_without_tempest_does_nothing(tmp_path):
    assert dry_run(tmp_path, 'stack:test-config',
                   services='blazar,blazar-a,blazar-m,keystone') == []


def test_grenade_skeleton(tmp_path):
    upgrade = os.path.join(DEVSTACK, 'upgrade')
    assert sorted(os.listdir(upgrade)) == ['settings', 'shutdown.sh', 'upgrade.sh']
    calls = tmp_path / 'calls'
    script = """
log() { printf '%%s\\n' "$*" >> "$CALLS"; }
register_project_for_upgrade() { log register_project_for_upgrade "$@"; }
register_db_to_save() { log register_db_to_save "$@"; }
devstack_localrc() { log devstack_localrc "$@"; }
GIT_BASE=https://opendev.org; BASE_DEVSTACK_BRANCH=stable/2025.2
TARGET_DEVSTACK_BRANCH=master
source %s
""" % os.path.join(upgrade, 'settings')
    subprocess.run(['bash', '-c', script], check=True, env=dict(os.environ, CALLS=str(calls)))
    recorded = calls.read_text().splitlines()
    assert 'register_project_for_upgrade blazar' in recorded
    assert 'register_db_to_save blazar' in recorded
    assert ('devstack_localrc target enable_plugin blazar '
            'https://opendev.org/openstack/blazar.git master') in recorded
    text = open(os.path.join(upgrade, 'upgrade.sh')).read()
    for step in ('install_blazar', 'upgrade head', 'start_blazar', 'check_blazar_upgrade'):
        assert step in text
