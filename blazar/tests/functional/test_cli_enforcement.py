"""Usage enforcement seen from the `openstack reservation` CLI, against a
real `blazar-all` whose configuration switches every rule on."""
import datetime
import os
import subprocess

import pytest

from blazar.tests import policy_server
from blazar.tests import ports
from blazar.tests import serving
from blazar.tests.functional.test_cli import BIN
from blazar.tests.functional.test_cli import cli
from blazar.tests.functional.test_cli import cli_json

CONFIG = """[DEFAULT]
state_path = {state}
[api]
bind_port = {port}
[simulator]
bind_port = {sim_port}
[enforcement]
enabled_filters = MaxLeaseDurationFilter,ProjectLimitsFilter,ExternalServiceFilter
max_lease_duration = 86400
max_hosts_per_project = 1
max_hosts_per_project_overrides = big:2
external_service_base_endpoint = {policy}/blazar
external_service_token = s3cret
external_service_timeout = 5
"""


@pytest.fixture(scope='module')
def policy():
    server = policy_server.PolicyServer().start()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def enforcing_blazar(tmp_path_factory, policy):
    state = tmp_path_factory.mktemp('blazar-all-enforcing')
    port, sim_port = ports.free_port(), ports.free_port()
    config = state / 'blazar.conf'
    config.write_text(CONFIG.format(state=state, port=port, sim_port=sim_port,
                                    policy=policy.url))
    log = open(state / 'blazar-all.log', 'w')
    proc = subprocess.Popen([os.path.join(BIN, 'blazar-all'), '--config-file', str(config)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=state)
    url = 'http://127.0.0.1:%d/v1' % port
    try:
        serving.wait_until_serving(url + '/leases', proc, state / 'blazar-all.log')
    except AssertionError as exc:
        proc.kill()
        pytest.fail('blazar-all did not start: %s' % exc)
    yield url
    proc.terminate()
    proc.wait(20)
    log.close()


def _at(hours):
    return (datetime.datetime.utcnow() + datetime.timedelta(hours=hours)).strftime(
        '%Y-%m-%d %H:%M')


def _create(url, name, hosts=1, hours=2, token=None, start=1):
    return cli(url, 'lease', 'create', '--reservation',
               'resource_type=physical:host,min=%d,max=%d,hypervisor_properties=,'
               'resource_properties=' % (hosts, hosts),
               '--start-date', _at(start), '--end-date', _at(start + hours), name,
               token=token, check=False)


def test_every_rule_refuses_with_a_clear_message(enforcing_blazar, policy):
    url = enforcing_blazar
    policy.answer('/blazar/check-create', lambda body: (
        (403, {'message': 'Leases may not be called %s' % body['lease']['name']})
        if body['lease']['name'] == 'forbidden' else (204, None)))
    for name in ('compute-1', 'compute-2'):
        cli(url, 'host', 'create', name)

    result = _create(url, 'long', hours=48)
    assert result.returncode != 0
    assert ('ERROR: Lease duration of 2 days exceeds the maximum of 1 day '
            '(max_lease_duration) by 1 day.') in result.stderr

    result = _create(url, 'wide', hosts=2)
    assert result.returncode != 0
    assert ('ERROR: Project admin would hold 2 hosts at once, over its limit of 1 host '
            '(max_hosts_per_project): its other leases hold none meanwhile and this '
            'lease adds 2 hosts.') in result.stderr
    assert _create(url, 'wide', hosts=2, token='bob:big', start=100).returncode == 0

    result = _create(url, 'forbidden')
    assert result.returncode != 0
    assert 'ERROR: Leases may not be called forbidden' in result.stderr
    (call,) = [c for c in policy.calls_to('/blazar/check-create')
               if c.body['lease']['name'] == 'forbidden']
    assert call.headers['X-Auth-Token'] == 's3cret'

    assert [lease['name'] for lease in cli_json(url, 'lease', 'list')] == ['wide']
    assert _create(url, 'fine').returncode == 0
    result = cli(url, 'lease', 'set', '--prolong-for', '2d', 'fine', check=False)
    assert 'ERROR: Lease duration of 2 days 2 hours exceeds the maximum of 1 day ' \
           '(max_lease_duration) by 1 day 2 hours.' in result.stderr
    assert sorted(lease['name'] for lease in cli_json(url, 'lease', 'list')) == [
        'fine', 'wide']
    cli(url, 'lease', 'delete', 'fine')
    assert policy.wait_for('/blazar/on-end')[0].body['lease']['name'] == 'fine'
