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
        [os.path.join(DEVSTACK, 'settings')]


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


# Every devstack function the plugin calls, recording its arguments.
STUBS = '''
log() { printf '%s\\n' "$*" >> "$CALLS"; }
for f in setup_develop pip_install create_service_user get_or_create_service \\
         get_or_create_endpoint iniset iniadd configure_keystone_authtoken_middleware \\
         setup_systemd_logging recreate_database run_process stop_process \\
         echo_summary die sudo; do
    eval "$f() { log $f \\"\\$@\\"; }"
done
openstack() { log openstack "$@"; [[ "$*" != *' show '* ]]; }  # no aggregate yet
iniget() { :; }
iniget_multiline() { :; }
get_python_exec_prefix() { echo /opt/stack/bin; }
get_transport_url() { echo rabbit://stackrabbit:secret@10.0.0.1:5672/; }
database_connection_url() { echo mysql+pymysql://root:secret@127.0.0.1/$1?charset=utf8; }
trueorfalse() { local v=${!2:-$1}; echo $v; }
is_service_enabled() { return 0; }
enable_service() { log enable_service "$@"; }
wait_for_service() { log wait_for_service "$@"; return 0; }
'''


def dry_run(tmp_path, *phases):
    calls = tmp_path / 'calls'
    calls.write_text('')
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    for tool in ('blazar-db-manage', 'blazar-status', 'blazar-manager'):
        (bin_dir / tool).write_text('#!/bin/sh\necho "%s $*" >> "$CALLS"\n' % tool)
        (bin_dir / tool).chmod(0o755)
    script = STUBS + '''
DEST=/opt/stack; SERVICE_HOST=10.0.0.1; SERVICE_PROTOCOL=http; API_WORKERS=2
REGION_NAME=RegionOne; SERVICE_PASSWORD=secret; SERVICE_PROJECT_NAME=service
SERVICE_DOMAIN_NAME=Default; KEYSTONE_SERVICE_URI=http://10.0.0.1/identity
NOVA_CONF=/etc/nova/nova.conf; STACK_USER=stack; DATA_DIR=/opt/stack/data
ENABLE_DEBUG_LOG_LEVEL=True; USE_SYSTEMD=True; SERVICE_TIMEOUT=60
source %(settings)s
get_python_exec_prefix() { echo %(bin)s; }
for phase in %(phases)s; do
    source %(plugin)s ${phase/:/ }
done
''' % {'settings': os.path.join(DEVSTACK, 'settings'), 'bin': bin_dir,
       'plugin': os.path.join(DEVSTACK, 'plugin.sh'), 'phases': ' '.join(phases)}
    proc = subprocess.run(['bash', '-c', script], capture_output=True, text=True,
                          env=dict(os.environ, CALLS=str(calls)), timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return calls.read_text().splitlines()


def test_stack_takes_every_step(tmp_path):
    calls = dry_run(tmp_path, 'stack:install', 'stack:post-config', 'stack:extra')
    text = '\n'.join(calls)
    expected = [
        'setup_develop /opt/stack/blazar',
        'pip_install uwsgi',
        'pip_install blazar-nova',
        'create_service_user blazar admin',
        'get_or_create_service blazar reservation',
        'get_or_create_endpoint reservation RegionOne http://10.0.0.1:1234/v1',
        'iniset /etc/blazar/blazar.conf DEFAULT auth_strategy keystone',
        'iniset /etc/blazar/blazar.conf DEFAULT transport_url rabbit://',
        'iniset /etc/blazar/blazar.conf database connection mysql+pymysql://'
        'root:secret@127.0.0.1/blazar',
        'configure_keystone_authtoken_middleware /etc/blazar/blazar.conf blazar',
        'iniset /etc/blazar/blazar.conf nova auth_type password',
        'iniset /etc/blazar/blazar.conf nova aggregate_freepool_name freepool',
        'iniset /etc/blazar/blazar-api-uwsgi.ini uwsgi module '
        'blazar.api.wsgi:application',
        'iniset /etc/blazar/blazar-api-uwsgi.ini uwsgi env '
        'BLAZAR_CONFIG_FILE=/etc/blazar/blazar.conf',
        'iniadd /etc/nova/nova.conf filter_scheduler available_filters '
        'blazarnova.scheduler.filters.blazar_filter.BlazarFilter',
        'iniset /etc/nova/nova.conf blazar:physical:host aggregate_freepool_name '
        'freepool',
        'recreate_database blazar',
        'blazar-db-manage --config-file /etc/blazar/blazar.conf upgrade head',
        'openstack --os-cloud devstack-admin aggregate create freepool',
        'run_process blazar-a',
        'run_process blazar-m %s/blazar-manager --config-file /etc/blazar/blazar.conf'
        % (tmp_path / 'bin'),
        'wait_for_service 60 http://10.0.0.1:1234/healthcheck',
        'blazar-status --config-file /etc/blazar/blazar.conf upgrade check',
    ]
    for step in expected:
        assert step in text, 'missing step %r in:\n%s' % (step, text)
    filters = [c for c in calls if 'filter_scheduler enabled_filters' in c]
    assert filters and filters[-1].endswith(',BlazarFilter')
    order = [text.index(s) for s in ('recreate_database blazar',
                                      'blazar-db-manage', 'run_process blazar-a')]
    assert order == sorted(order)


def test_unstack_and_clean(tmp_path):
    calls = dry_run(tmp_path, 'unstack', 'clean')
    assert 'stop_process blazar-a' in calls and 'stop_process blazar-m' in calls
    assert 'sudo rm -rf /etc/blazar' in calls


@pytest.mark.parametrize('phase', ['stack:pre-install', 'stack:test-config'])
def test_other_phases_do_nothing(tmp_path, phase):
    assert [c for c in dry_run(tmp_path, phase) if not c.startswith('enable_service')] == []
