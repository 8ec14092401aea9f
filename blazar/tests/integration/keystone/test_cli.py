"""The `openstack reservation` CLI as a tenant runs it: a password, the
identity URL, and the reservation endpoint found in Keystone's catalog."""
import datetime
import json
import os
import subprocess
import sys

import requests

BIN = os.path.dirname(sys.executable)


def openstack(keystone, user, *args):
    account = keystone.users[user]
    # Only what the test gives: no OS_* variable of the caller's shell.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('OS_')}
    env.update(OS_AUTH_URL=keystone.auth_url, OS_USERNAME=account.name,
               OS_PASSWORD=account.password, OS_PROJECT_NAME=account.project,
               OS_USER_DOMAIN_NAME='Default', OS_PROJECT_DOMAIN_NAME='Default',
               OS_IDENTITY_API_VERSION='3', OS_REGION_NAME='RegionOne')
    result = subprocess.run([os.path.join(BIN, 'openstack'), 'reservation'] + list(args),
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _json(out):
    return json.loads(out[min(i for i in (out.find('{'), out.find('[')) if i >= 0):])


def test_a_tenant_creates_and_lists_a_lease_with_a_password(deployment):
    keystone = deployment.keystone
    end = (datetime.datetime.utcnow() + datetime.timedelta(days=2)).strftime(
        '%Y-%m-%d %H:%M')
    start = (datetime.datetime.utcnow() + datetime.timedelta(days=1)).strftime(
        '%Y-%m-%d %H:%M')
    # The CLI wants a reservation: one host, enrolled by the administrator.
    enrolled = requests.post(deployment.url + '/os-hosts', json={'name': 'compute-3'},
                             headers={'X-Auth-Token': keystone.token('admin')},
                             timeout=60)
    assert enrolled.status_code in (201, 409), enrolled.text
    lease = _json(openstack(
        keystone, 'b-member', 'lease', 'create', '--reservation',
        'resource_type=physical:host,min=1,max=1,hypervisor_properties=,'
        'resource_properties=', '--start-date', start, '--end-date', end,
        'cli-lease', '-f', 'json'))
    member = keystone.users['b-member']
    assert (lease['name'], lease['project_id'], lease['user_id']) == (
        'cli-lease', member.project_id, member.id)
    assert keystone.get_trust(lease['trust_id'], 'b-member')['trustor_user_id'] == member.id

    listed = _json(openstack(keystone, 'b-member', 'lease', 'list', '-f', 'json'))
    assert 'cli-lease' in {row['name'] for row in listed}
    # Another project's reader does not see it.
    other = _json(openstack(keystone, 'a-reader', 'lease', 'list', '-f', 'json'))
    assert 'cli-lease' not in {row['name'] for row in other}
    openstack(keystone, 'b-member', 'lease', 'delete', 'cli-lease')
    keystone.wait_for_trust_gone(lease['trust_id'], 'b-member')
