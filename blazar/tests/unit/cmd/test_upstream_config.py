"""A configuration file written the way upstream Blazar's DevStack plugin
writes it (devstack/plugin.sh of openstack/blazar: configure_blazar, the
keystone_authtoken section of configure_keystone_authtoken_middleware, the
RPC and logging settings of DevStack's helpers), read by this service:
every option upstream 18 reads keeps its meaning or is named as ignored,
and blazar-status lists them."""
import json
import logging
import os
import subprocess
import sys

from oslo_config import cfg
import pytest

from blazar import plugins
from blazar.cmd import status
from blazar.conf import upstream
from blazar.db import api as db_api
from blazar.db import migration

CONF = cfg.CONF
BIN = os.path.dirname(sys.executable)

DEVSTACK_CONF = """[DEFAULT]
os_auth_version = v3
os_auth_host = 10.0.0.5
os_auth_port = 80
os_auth_prefix = identity
os_admin_password = secretservice
os_admin_username = blazar
os_admin_project_name = service
identity_service = identity
os_region_name = RegionOne
host = 10.0.0.5
debug = True
use_syslog = False
transport_url = rabbit://stackrabbit:secretrabbit@10.0.0.5:5672/
logging_exception_prefix = ERROR %(name)s %(instance)s
logging_debug_format_suffix = {{(pid=%(process)d) %(funcName)s %(pathname)s:%(lineno)d}}

[keystone_authtoken]
memcached_servers = localhost:11211
cafile = /opt/stack/data/ca-bundle.pem
project_domain_name = Default
project_name = service
user_domain_name = Default
password = secretservice
username = blazar
auth_url = http://10.0.0.5/identity
interface = public
auth_type = password
www_authenticate_uri = http://10.0.0.5/identity

[nova]
aggregate_freepool_name = freepool

[manager]
plugins = physical.host.plugin,virtual.instance.plugin,virtual.floatingip.plugin

[api]
api_v2_controllers = oshosts,leases

[database]
connection = {connection}
"""

# Upstream options the file sets that this service ignores.
IGNORED_SET = ['os_auth_version', 'os_auth_host', 'os_auth_port', 'os_auth_prefix',
               'os_admin_password', 'os_admin_username', 'os_admin_project_name',
               'identity_service', 'api_v2_controllers']


@pytest.fixture
def devstack_conf(tmp_path):
    url = 'sqlite:///%s' % (tmp_path / 'blazar.sqlite')
    path = tmp_path / 'blazar.conf'
    path.write_text(DEVSTACK_CONF.format(connection=url))
    CONF(['--config-file', str(path)], project='blazar', default_config_files=[])
    yield path
    db_api.reset_facade()


def test_upstream_options_keep_their_meaning(devstack_conf):
    assert CONF.nova.region_name == CONF.placement.region_name == 'RegionOne'
    assert CONF.neutron.region_name == 'RegionOne'
    assert CONF.nova.aggregate_freepool_name == 'freepool'
    assert CONF.keystone_authtoken.www_authenticate_uri == 'http://10.0.0.5/identity'
    assert CONF.host == '10.0.0.5'


def test_upstream_options_of_older_places_and_names_are_read(tmp_path):
    path = tmp_path / 'blazar.conf'
    path.write_text('[DEFAULT]\nport = 4321\ncafile = /etc/ca.pem\ncompute_service = cmp\n'
                    'image_prefix = snap_\n[nova]\nendpoint_type = admin\n'
                    '[placement]\nendpoint_type = public\n'
                    '[neutron]\nendpoint_type = internal\n'
                    '[physical:host]\naggregate_freepool_name = pool0\n'
                    'blazar_owner = owner:key\n')
    CONF(['--config-file', str(path)], project='blazar', default_config_files=[])
    assert CONF.api.bind_port == 4321
    assert CONF.nova.cafile == CONF.placement.cafile == CONF.trustee.cafile == '/etc/ca.pem'
    assert CONF.nova.service_type == 'cmp'
    assert CONF.nova.image_prefix == 'snap_'
    assert CONF.nova.valid_interfaces == ['admin']
    assert CONF.placement.valid_interfaces == ['public']
    assert CONF.neutron.valid_interfaces == ['internal']
    assert CONF.nova.aggregate_freepool_name == 'pool0'
    assert CONF.nova.blazar_owner == 'owner:key'


def test_ignored_upstream_options_are_named_at_start_up(devstack_conf, caplog):
    caplog.set_level(logging.WARNING, logger=upstream.__name__)
    upstream.warn_ignored(CONF)
    warned = [r.getMessage() for r in caplog.records]
    for name in IGNORED_SET:
        assert any(("] %s is upstream Blazar's option and is ignored here: " % name) in m
                   for m in warned), name
    assert len(warned) == len(IGNORED_SET)
    assert any('[trustee]' in m for m in warned if 'os_admin_username' in m)
    # The password is named, never shown.
    assert not any('secretservice' in m for m in warned)


def test_blazar_status_lists_every_upstream_option_set(devstack_conf):
    messages = status.check_deprecated_options()
    assert messages.code == status.WARNING
    for name in IGNORED_SET:
        assert "] %s is upstream Blazar's option, ignored here: " % name \
            in messages.details, name
    assert '[DEFAULT] os_region_name is deprecated, use [nova] region_name, ' \
        '[placement] region_name, [neutron] region_name instead' in messages.details
    assert 'secretservice' not in messages.details


def test_upstream_plugins_are_loaded(devstack_conf, caplog):
    loaded = plugins.load(CONF.manager.plugins)
    assert sorted(loaded) == ['physical:host', 'virtual:floatingip', 'virtual:instance']
    result = status.check_plugins()
    assert result.code == status.SUCCESS
    assert 'virtual.floatingip.plugin (virtual:floatingip)' in result.details


def test_blazar_status_command_on_the_devstack_file(devstack_conf):
    migration.upgrade('head')
    proc = subprocess.run([os.path.join(BIN, 'blazar-status'), '--config-file',
                           str(devstack_conf), 'upgrade', 'check', '--json'],
                          capture_output=True, text=True, timeout=120)
    checks = {c['check']: c for c in json.loads(proc.stdout)['checks']}
    assert checks['Database schema']['result'] == 0
    assert checks['Deprecated options']['result'] == 1
    assert 'os_admin_username' in checks['Deprecated options']['details']
    assert checks['Resource plugins']['result'] == 0   # upstream's three all load
