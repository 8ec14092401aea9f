"""Lease trusts against a real Keystone: made at create (impersonating, from
the caller to the Blazar service user, with the caller's roles and
project), usable by the manager, deleted when the lease is deleted or has
ended; a token that cannot delegate gets a clear 403 and nothing is kept."""
import datetime
import json
import os
import subprocess
import sys
import time

from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
import pytest
import requests

from blazar.clients import keystone as keystone_client
from blazar.tests import keystone_fixture

BIN = os.path.dirname(sys.executable)
OWNER = 'a-member'


def _date(**delta):
    return (datetime.datetime.utcnow() + datetime.timedelta(**delta)).strftime(
        '%Y-%m-%d %H:%M')


def _call(deployment, token, method, path, body=None):
    return requests.request(method, deployment.url + path, json=body, timeout=60,
                            headers={'Accept': 'application/json',
                                     'X-Auth-Token': token})


def _create(deployment, token, name, start=None, end=None):
    return _call(deployment, token, 'POST', '/leases', {
        'name': name, 'start_date': start or _date(days=1),
        'end_date': end or _date(days=2)})


def _wait_for_lease(deployment, token, lease_id, condition, what, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        lease = _call(deployment, token, 'GET', '/leases/%s' % lease_id).json()['lease']
        if condition(lease):
            return lease
        assert time.monotonic() < deadline, 'lease never %s: %s\n%s' % (
            what, lease, deployment.procs.logs())
        time.sleep(0.3)


@pytest.fixture
def owner_token(deployment):
    return deployment.keystone.token(OWNER)


def test_a_lease_create_records_a_trust_from_the_caller_to_blazar(deployment,
                                                                    owner_token):
    keystone = deployment.keystone
    resp = _create(deployment, owner_token, 'trusted')
    assert resp.status_code == 201, resp.text
    lease = resp.json()['lease']
    trust = keystone.get_trust(lease['trust_id'], OWNER)
    owner = keystone.users[OWNER]
    assert trust['trustor_user_id'] == owner.id
    assert trust['trustee_user_id'] == keystone.users['blazar'].id
    assert trust['project_id'] == owner.project_id
    assert trust['impersonation'] is True
    # The caller's roles: member, and reader which member implies.
    assert {role['name'] for role in trust['roles']} == {'member', 'reader'}
    _call(deployment, owner_token, 'DELETE', '/leases/%s' % lease['id'])


def test_the_trust_session_acts_as_the_owner(deployment, owner_token, config):
    """What plugins get from ``keystone.session_for_lease``: the Blazar
    service user, scoped to the trust, acting as the owner in the owner's
    project."""
    keystone = deployment.keystone
    lease = _create(deployment, owner_token, 'acting').json()['lease']
    blazar = keystone.users['blazar']
    # The password plugin's options (auth_url is required: unregistered
    # after, or every later test's configuration would lack it).
    plugin_opts = ks_loading.get_auth_plugin_conf_options('password')
    config.register_opts(plugin_opts, group='trustee')
    for key, value in {'auth_type': 'password', 'auth_url': keystone.auth_url,
                       'username': blazar.name, 'password': blazar.password,
                       'user_domain_name': keystone_fixture.DOMAIN}.items():
        config.set_override(key, value, group='trustee')
    keystone_client.reset_client()
    try:
        session = keystone_client.session_for_lease(lease)
        access = session.auth.get_access(session)
        owner = keystone.users[OWNER]
        assert (access.user_id, access.project_id, access.trust_id) == (
            owner.id, owner.project_id, lease['trust_id'])
        assert access.service_catalog.url_for(service_type='reservation',
                                              interface='public') == deployment.url
        assert keystone_client.session_for_lease(dict(lease, trust_id=None)) is None
    finally:
        keystone_client.reset_client()
        config.reset()
        config.unregister_opts(plugin_opts, group='trustee')
        _call(deployment, owner_token, 'DELETE', '/leases/%s' % lease['id'])


def test_deleting_a_lease_deletes_its_trust(deployment, owner_token):
    lease = _create(deployment, owner_token, 'deleted').json()['lease']
    assert deployment.keystone.get_trust(lease['trust_id'], OWNER) is not None
    resp = _call(deployment, owner_token, 'DELETE', '/leases/%s' % lease['id'])
    assert resp.status_code == 204, resp.text
    assert deployment.keystone.get_trust(lease['trust_id'], OWNER) is None


def test_a_lease_s_trust_is_deleted_once_it_has_ended(deployment, owner_token):
    resp = _create(deployment, owner_token, 'ending', start='now', end=_date(hours=1))
    assert resp.status_code == 201, resp.text
    lease = resp.json()['lease']
    trust_id = lease['trust_id']
    _wait_for_lease(deployment, owner_token, lease['id'],
                    lambda lease: lease['status'] == 'ACTIVE', 'ACTIVE')
    assert deployment.keystone.get_trust(trust_id, OWNER) is not None
    # End it now: its end event runs at once.
    resp = _call(deployment, owner_token, 'PUT', '/leases/%s' % lease['id'],
                 {'end_date': 'now'})
    assert resp.status_code == 200, resp.text
    ended = _wait_for_lease(
        deployment, owner_token, lease['id'],
        lambda lease: lease['status'] == 'TERMINATED' and lease['trust_id'] is None,
        'TERMINATED without its trust')
    assert ended['status_reason'] is None
    assert deployment.keystone.get_trust(trust_id, OWNER) is None


def test_a_token_that_cannot_delegate_gets_a_clear_403_and_nothing_is_kept(
        deployment):
    """An application credential's token passes the API's policy (member of
    its project) but Keystone refuses it a trust."""
    keystone = deployment.keystone
    owner = keystone.users[OWNER]
    resp = keystone.request('POST', '/users/%s/application_credentials' % owner.id,
                            OWNER, json={'application_credential': {
                                'name': 'no-delegation'}})
    assert resp.status_code == 201, resp.text
    credential = resp.json()['application_credential']
    app_token = ks_session.Session(auth=v3.ApplicationCredential(
        auth_url=keystone.auth_url, application_credential_id=credential['id'],
        application_credential_secret=credential['secret'])).get_token()
    trusts_before = keystone.trusts_of(OWNER)

    resp = _create(deployment, app_token, 'undelegated')
    assert resp.status_code == 403, resp.text
    message = resp.json()['error_message']
    assert message.startswith('Keystone did not create the trust the lease needs')
    assert 'Delegated tokens cannot manage trusts' in message
    # The token itself is fine for everything else...
    leases = _call(deployment, app_token, 'GET', '/leases')
    assert leases.status_code == 200
    # ...and nothing was kept: no lease, no trust.
    assert 'undelegated' not in {lease['name'] for lease in leases.json()['leases']}
    assert keystone.trusts_of(OWNER) == trusts_before



def test_the_upgrade_check_finds_the_trustee(deployment):
    proc = subprocess.run(
        [os.path.join(BIN, 'blazar-status'), '--config-file',
         str(deployment.procs.workdir / 'blazar.conf'), 'upgrade', 'check', '--json'],
        capture_output=True, text=True, timeout=120)
    check, = [c for c in json.loads(proc.stdout)['checks']
              if c['check'] == 'Keystone trusts']
    assert check['result'] == 0, check
    assert deployment.keystone.users['blazar'].id in check['details']
