"""Lease trusts against a real Keystone: made at create (impersonating, from
the caller to the Blazar service user, with the caller's roles and
project), usable by the manager, deleted when the lease is deleted or has
ended; a token that cannot delegate gets a clear 403 and nothing is kept."""
import concurrent.futures
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

from blazar import exceptions
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


@pytest.fixture(autouse=True)
def no_other_lease_of_the_owner(deployment, owner_token):
    """Leases of one owner, project and roles share a trust: a lease the
    owner kept from another module (the policy matrix's) would hold the
    trusts the tests here make and watch go."""
    owner_id = deployment.keystone.users[OWNER].id
    for lease in _call(deployment, owner_token, 'GET', '/leases').json()['leases']:
        if lease['user_id'] == owner_id:
            resp = _call(deployment, owner_token, 'DELETE', '/leases/%s' % lease['id'])
            assert resp.status_code == 204, resp.text


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


@pytest.fixture
def trustee(deployment, config):
    """This process's ``[trustee]``: the Blazar service user of the
    deployment's Keystone (the password plugin's options unregistered after:
    auth_url is required, or every later test's configuration would lack
    it)."""
    keystone = deployment.keystone
    blazar = keystone.users['blazar']
    plugin_opts = ks_loading.get_auth_plugin_conf_options('password')
    config.register_opts(plugin_opts, group='trustee')
    config.set_override('auth_strategy', 'keystone')
    for key, value in {'auth_type': 'password', 'auth_url': keystone.auth_url,
                       'username': blazar.name, 'password': blazar.password,
                       'user_domain_name': keystone_fixture.DOMAIN}.items():
        config.set_override(key, value, group='trustee')
    keystone_client.reset_client()
    yield config
    keystone_client.reset_client()
    config.reset()
    config.unregister_opts(plugin_opts, group='trustee')


def test_the_trust_session_acts_as_the_owner(deployment, owner_token, trustee):
    """What plugins get from ``keystone.session_for_lease``: the Blazar
    service user, scoped to the trust, acting as the owner in the owner's
    project; made by rescoping the service user's token (no password)."""
    keystone = deployment.keystone
    lease = _create(deployment, owner_token, 'acting').json()['lease']
    try:
        since = len(keystone.auth_requests())
        session = keystone_client.session_for_lease(lease)
        access = session.auth.get_access(session)
        owner = keystone.users[OWNER]
        assert (access.user_id, access.project_id, access.trust_id) == (
            owner.id, owner.project_id, lease['trust_id'])
        assert access.service_catalog.url_for(service_type='reservation',
                                              interface='public') == deployment.url
        assert keystone_client.session_for_lease(lease) is session
        assert keystone_client.session_for_lease(dict(lease, trust_id=None)) is None
        made = keystone.auth_requests()[since:]
        # This process's one service login, then one rescope to the trust.
        assert [(r['methods'], r['scope']) for r in made] == [
            (['password'], None), (['token'], ['OS-TRUST:trust'])]
    finally:
        _call(deployment, owner_token, 'DELETE', '/leases/%s' % lease['id'])


def test_a_deleted_trust_is_refused_at_its_check_with_a_403(deployment, trustee):
    keystone = deployment.keystone
    owner = keystone.users[OWNER]
    resp = keystone.request('POST', '/OS-TRUST/trusts', OWNER, json={'trust': {
        'trustor_user_id': owner.id, 'trustee_user_id': keystone.users['blazar'].id,
        'impersonation': True, 'project_id': owner.project_id,
        'roles': [{'name': 'member'}]}})
    assert resp.status_code == 201, resp.text
    trust_id = resp.json()['trust']['id']
    keystone_client.check_trust(trust_id)
    since = len(keystone.auth_requests())
    assert keystone.request('DELETE', '/OS-TRUST/trusts/%s' % trust_id,
                            OWNER).status_code == 204
    with pytest.raises(exceptions.TrustNotUsable) as caught:
        keystone_client.check_trust(trust_id)
    assert caught.value.code == 403
    assert 'Keystone refused to scope a token to trust %s' % trust_id in str(caught.value)
    # Only the test's own login as the owner (to delete the trust).
    assert [r['user'] for r in keystone.password_logins(since)] == [OWNER]
    assert keystone_client.delete_trust(trust_id) is True   # already gone


def test_lease_creates_deletes_and_events_check_no_password(deployment, owner_token):
    """Zero password logins (bcrypt checks) per lease create, delete, start
    and end once warm, counted in Keystone's record of token requests."""
    keystone = deployment.keystone

    def cycle(name):
        later = _create(deployment, owner_token, name + '-later')
        assert later.status_code == 201, later.text
        now = _create(deployment, owner_token, name + '-now', start='now',
                      end=_date(hours=1))
        assert now.status_code == 201, now.text
        lease = now.json()['lease']
        _wait_for_lease(deployment, owner_token, lease['id'],
                        lambda lease: lease['status'] == 'ACTIVE', 'ACTIVE')
        resp = _call(deployment, owner_token, 'PUT', '/leases/%s' % lease['id'],
                     {'end_date': 'now'})
        assert resp.status_code == 200, resp.text
        _wait_for_lease(deployment, owner_token, lease['id'],
                        lambda lease: lease['status'] == 'TERMINATED'
                        and lease['trust_id'] is None, 'TERMINATED without its trust')
        for made in (later.json()['lease'], lease):
            resp = _call(deployment, owner_token, 'DELETE', '/leases/%s' % made['id'])
            assert resp.status_code == 204, resp.text
        return later.json()['lease']['trust_id'], lease['trust_id']

    cycle('warm-up')     # each process's first login (service users, middlewares)
    since = len(keystone.auth_requests())
    made = [trust for i in range(3) for trust in cycle('counted-%d' % i)]
    requests_made = keystone.auth_requests()[since:]
    logins = keystone.password_logins(since)
    assert logins == [], 'password logins after warm-up: %s' % logins
    # Each cycle's two leases shared one trust, made for the first and
    # deleted with the last (none is left to share between cycles).
    assert len(set(made)) == len(made) // 2
    # Each trust was checked by rescoping the service token, and is gone.
    rescopes = [r for r in requests_made if r['scope'] == ['OS-TRUST:trust']]
    assert len(rescopes) >= len(set(made))
    assert all(r['methods'] == ['token'] for r in rescopes)
    for trust_id in set(made):
        keystone.wait_for_trust_gone(trust_id, OWNER)


def test_a_second_lease_shares_the_trust_and_makes_keystone_issue_no_token(
        deployment, owner_token):
    """Issue 14: no trust made and no token scoped per create once the
    owner holds a trust for the same project and roles; the trust goes
    with the last lease holding it."""
    keystone = deployment.keystone
    first = _create(deployment, owner_token, 'sharing-1').json()['lease']
    trusts_before = keystone.trusts_of(OWNER)
    since = len(keystone.auth_requests())
    second = _create(deployment, owner_token, 'sharing-2')
    assert second.status_code == 201, second.text
    second = second.json()['lease']
    assert second['trust_id'] == first['trust_id']
    assert keystone.auth_requests()[since:] == []
    assert keystone.trusts_of(OWNER) == trusts_before
    assert _call(deployment, owner_token, 'DELETE',
                 '/leases/%s' % first['id']).status_code == 204
    time.sleep(1)    # what a deferred deletion would need
    assert keystone.get_trust(first['trust_id'], OWNER) is not None
    assert _call(deployment, owner_token, 'DELETE',
                 '/leases/%s' % second['id']).status_code == 204
    keystone.wait_for_trust_gone(first['trust_id'], OWNER)


def test_a_shared_trust_its_owner_deleted_is_replaced_at_the_next_create(
        deployment, owner_token):
    keystone = deployment.keystone
    first = _create(deployment, owner_token, 'replaced-1').json()['lease']
    assert keystone.request('DELETE', '/OS-TRUST/trusts/%s' % first['trust_id'],
                            OWNER).status_code == 204
    second = _create(deployment, owner_token, 'replaced-2')
    assert second.status_code == 201, second.text
    second = second.json()['lease']
    assert second['trust_id'] not in (None, first['trust_id'])
    assert keystone.get_trust(second['trust_id'], OWNER) is not None
    for lease in (first, second):
        assert _call(deployment, owner_token, 'DELETE',
                     '/leases/%s' % lease['id']).status_code == 204
    keystone.wait_for_trust_gone(second['trust_id'], OWNER)


def test_deleting_a_lease_deletes_its_trust(deployment, owner_token):
    lease = _create(deployment, owner_token, 'deleted').json()['lease']
    assert deployment.keystone.get_trust(lease['trust_id'], OWNER) is not None
    resp = _call(deployment, owner_token, 'DELETE', '/leases/%s' % lease['id'])
    assert resp.status_code == 204, resp.text
    # Deleted after the commit (a deferred call), not within the request.
    deployment.keystone.wait_for_trust_gone(lease['trust_id'], OWNER)


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


def test_creates_beside_trust_deletions_all_get_their_trust(deployment, owner_token):
    """Each lease deleted lets the manager delete its trust with a token
    scoped to that trust while other leases are being created: no create
    may be taken for a redelegation of a trust just deleted (Keystone 30
    keeps a validated token on its middleware, shared by a process's
    threads; the Keystone here serves one request at a time per process)."""
    def create_then_delete(i):
        resp = _create(deployment, owner_token, 'beside-%d' % i)
        assert resp.status_code == 201, resp.text
        lease_id = resp.json()['lease']['id']
        resp = _call(deployment, owner_token, 'DELETE', '/leases/%s' % lease_id)
        assert resp.status_code == 204, resp.text

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(create_then_delete, range(12)))
