"""blazar.clients.keystone against a fake identity v3 over loopback HTTP,
with the real keystoneauth: one password login per process, trusts checked,
used and deleted with the service token rescoped to them, the cache of
trust-scoped sessions (expiry, bound), and Keystone's failures as clear
errors. blazar/tests/integration/keystone runs the same against a real
Keystone and counts its password logins."""
import datetime
import json
import threading
import uuid

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
import pytest

from blazar import context as blazar_context
from blazar import exceptions
from blazar.clients import keystone
from blazar.manager import trusts
from blazar.utils import wsgi

SERVICE = ('u-blazar', 'blazar', 'secret')     # id, name, password
OWNER = ('u-owner', 'p-owner', 'owner-token')  # id, project, a token of theirs


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class FakeKeystone:
    """Identity v3 as far as the trust client goes, behaving as Keystone
    does: password and token methods; a token rescoped to a trust keeps the
    expiry of the token it came from (or the trust's, if sooner); a
    refused rescope is a bare 401; only the trustor (a token scoped to an
    impersonating trust is the trustor) deletes a trust, and its deletion
    revokes the tokens scoped to it. Records every token request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tokens = {OWNER[2]: {'user': OWNER[0], 'project': OWNER[1], 'trust': None,
                                  'expires': _utcnow() + datetime.timedelta(days=1)}}
        self.trusts = {}
        self.requests = []            # (methods, scope key or None, status)
        self.validations = 0          # GET /v3/auth/tokens
        self.lifetime = 3600          # seconds, of a password login's token
        self.trust_lifetime = None    # seconds, a cap of the trusts' own expiry
        self.unavailable = None       # a status every request gets (e.g. 503)
        self.allow_rescope_scoped = True
        self.server = wsgi.Server(self.app, '127.0.0.1', 0, name='fake-keystone').start()
        self.url = self.server.url + '/v3'

    # --- what the tests look at ---------------------------------------------
    def logins(self, method):
        return [r for r in self.requests if method in r[0]]

    def trust_for_owner(self):
        trust_id = uuid.uuid4().hex
        self.trusts[trust_id] = {'trustor': OWNER[0], 'trustee': SERVICE[0],
                                 'project': OWNER[1]}
        return trust_id

    def revoke_trust(self, trust_id):
        with self.lock:
            self.trusts.pop(trust_id, None)
            for token in self.tokens.values():
                if token['trust'] == trust_id:
                    token['revoked'] = True

    def revoke_service_tokens(self):
        with self.lock:
            for token in self.tokens.values():
                if token['user'] == SERVICE[0]:
                    token['revoked'] = True

    # --- the server ------------------------------------------------------------
    def _valid(self, token_id):
        token = self.tokens.get(token_id)
        if token is None or token.get('revoked') or token['expires'] <= _utcnow():
            return None
        return token

    def _issue(self, user, project, trust, expires, methods):
        token_id = uuid.uuid4().hex
        self.tokens[token_id] = {'user': user, 'project': project, 'trust': trust,
                                 'expires': expires}
        body = {'token': {
            'methods': methods, 'expires_at': expires.strftime('%Y-%m-%dT%H:%M:%S.000000Z'),
            'issued_at': _utcnow().strftime('%Y-%m-%dT%H:%M:%S.000000Z'),
            'user': {'id': user, 'name': user, 'domain': {'id': 'default',
                                                          'name': 'Default'}},
            'project': {'id': project, 'name': project,
                        'domain': {'id': 'default', 'name': 'Default'}},
            'roles': [{'id': 'r-member', 'name': 'member'}], 'catalog': []}}
        if trust:
            body['token']['OS-TRUST:trust'] = {
                'id': trust, 'impersonation': True,
                'trustor_user': {'id': self.trusts[trust]['trustor']},
                'trustee_user': {'id': self.trusts[trust]['trustee']}}
        return token_id, body

    def _authenticate(self, request):
        auth = request['auth']
        methods = auth['identity']['methods']
        scope = auth.get('scope') or {}
        trust_id = (scope.get('OS-TRUST:trust') or {}).get('id')
        if 'password' in methods:
            user = auth['identity']['password']['user']
            if (user.get('name'), user.get('password')) != SERVICE[1:]:
                return 401, None
            user_id, project, expires = SERVICE[0], 'p-service', \
                _utcnow() + datetime.timedelta(seconds=self.lifetime)
        else:
            source = self._valid(auth['identity']['token']['id'])
            if source is None or source['trust']:
                return 401, None
            if trust_id and source['project'] and not self.allow_rescope_scoped:
                return 403, 'You are not authorized to perform the requested ' \
                            'action: rescope a scoped token.'
            user_id, project, expires = source['user'], source['project'], \
                source['expires']
        if trust_id:
            trust = self.trusts.get(trust_id)
            if trust is None or trust['trustee'] != user_id or trust.get('unusable'):
                return 401, None
            user_id, project = trust['trustor'], trust['project']
            if self.trust_lifetime is not None:
                expires = min(expires, _utcnow() + datetime.timedelta(
                    seconds=self.trust_lifetime))
        return 201, self._issue(user_id, project, trust_id, expires, methods)

    def app(self, environ, start_response):
        path = environ['PATH_INFO'].rstrip('/')
        method = environ['REQUEST_METHOD']
        base = 'http://%s' % environ['HTTP_HOST']
        length = int(environ.get('CONTENT_LENGTH') or 0)
        request = json.loads(environ['wsgi.input'].read(length)) if length else None
        headers = [('Content-Type', 'application/json')]
        with self.lock:
            status, body = self._answer(environ, method, path, base, request, headers)
        if status >= 400 and body is None:
            body = {'error': {'code': status, 'message': {
                401: 'The request you have made requires authentication.',
                403: 'You are not authorized to perform the requested action.',
                404: 'Could not find it.'}.get(status, 'Unavailable')}}
        elif status >= 400 and isinstance(body, str):
            body = {'error': {'code': status, 'message': body}}
        start_response('%d X' % status, headers)
        return [json.dumps(body).encode() if body is not None else b'']

    def _answer(self, environ, method, path, base, request, headers):
        if self.unavailable:
            return self.unavailable, 'Service Unavailable'
        if method == 'GET' and path in ('', '/v3'):
            return 200, {'version': {
                'id': 'v3.14', 'status': 'stable', 'updated': '2020-04-07T00:00:00Z',
                'links': [{'rel': 'self', 'href': base + '/v3/'}],
                'media-types': [{'base': 'application/json',
                                 'type': 'application/vnd.openstack.identity-v3+json'}]}}
        if method == 'POST' and path == '/v3/auth/tokens':
            status, issued = self._authenticate(request)
            scope = sorted(request['auth'].get('scope') or {}) or None
            self.requests.append((request['auth']['identity']['methods'], scope, status))
            if status != 201:
                return status, issued
            headers.append(('X-Subject-Token', issued[0]))
            return 201, issued[1]
        caller = self._valid(environ.get('HTTP_X_AUTH_TOKEN'))
        if caller is None:
            return 401, None
        if method == 'GET' and path == '/v3/auth/tokens':
            self.validations += 1
            subject = self._valid(environ.get('HTTP_X_SUBJECT_TOKEN'))
            return (200, {'token': {}}) if subject else (404, None)
        if method == 'POST' and path == '/v3/OS-TRUST/trusts':
            wanted = request['trust']
            if caller['trust'] or wanted['trustor_user_id'] != caller['user']:
                return 403, 'Delegated tokens cannot manage trusts.'
            trust_id = uuid.uuid4().hex
            self.trusts[trust_id] = {'trustor': caller['user'],
                                     'trustee': wanted['trustee_user_id'],
                                     'project': wanted['project_id']}
            return 201, {'trust': {'id': trust_id}}
        if path.startswith('/v3/OS-TRUST/trusts/'):
            trust_id = path.rsplit('/', 1)[1]
            trust = self.trusts.get(trust_id)
            if trust is None:
                return 404, None
            if method == 'GET' and caller['user'] in (trust['trustor'], trust['trustee']):
                return 200, {'trust': dict(trust, id=trust_id)}
            if method == 'DELETE' and caller['user'] == trust['trustor']:
                self.lock.release()   # revoke_trust takes it
                try:
                    self.revoke_trust(trust_id)
                finally:
                    self.lock.acquire()
                return 204, None
            return 403, None
        return 404, None

    def stop(self):
        self.server.stop()


@pytest.fixture
def fake():
    server = FakeKeystone()
    yield server
    server.stop()


@pytest.fixture
def trustee(config, fake):
    """[trustee] = the service user of the fake Keystone (the password
    plugin's options unregistered after: auth_url is required)."""
    opts = ks_loading.get_auth_plugin_conf_options('password')
    config.register_opts(opts, group='trustee')
    config.set_override('auth_strategy', 'keystone')
    for key, value in {'auth_type': 'password', 'auth_url': fake.url,
                       'username': SERVICE[1], 'password': SERVICE[2],
                       'user_domain_name': 'Default'}.items():
        config.set_override(key, value, group='trustee')
    keystone.reset_client()
    yield config
    keystone.reset_client()
    config.reset()
    config.unregister_opts(opts, group='trustee')


def _owner():
    return blazar_context.RequestContext(user_id=OWNER[0], project_id=OWNER[1],
                                         roles=['member'], auth_token=OWNER[2])


class Undo:
    """What ``trusts.acquire`` is given to register its undo with: runs it
    if the creation fails."""

    def __init__(self):
        self.steps = []

    def add(self, func, *args):
        self.steps.append((func, args))


def _new_trust():
    steps = Undo()
    try:
        return trusts.acquire(_owner(), steps, reuse=False).trust_id
    except Exception:
        for func, args in reversed(steps.steps):
            func(*args)
        raise


def test_one_password_login_serves_every_trust_check_use_and_deletion(fake, trustee):
    made = [_new_trust() for _ in range(5)]
    assert set(made) <= set(fake.trusts)
    for trust_id in made:
        session = keystone.session_for_lease({'trust_id': trust_id})
        assert session is keystone.session_for_lease({'trust_id': trust_id})
        access = session.auth.get_access(session)
        # The owner, in the owner's project, through the trust.
        assert (access.user_id, access.project_id, access.trust_id) == (
            OWNER[0], OWNER[1], trust_id)
    for trust_id in made:
        assert keystone.delete_trust(trust_id) is True
        assert trust_id not in fake.trusts
        assert trust_id not in keystone._trust_sessions
    assert len(fake.logins('password')) == 1
    # One rescope per trust (its check), reused for its use and deletion.
    rescopes = fake.logins('token')
    assert len(rescopes) == len(made)
    assert {tuple(r[1]) for r in rescopes} == {('OS-TRUST:trust',)}


def test_a_shared_trust_is_checked_by_validating_its_token_not_by_a_new_one(
        fake, trustee):
    trustee.set_override('trust_check_interval', 0, group='trustee')
    trust_id = _new_trust()
    tokens = len(fake.requests)
    assert keystone.trust_still_usable(trust_id) is True
    assert keystone.trust_still_usable(trust_id) is True
    assert (len(fake.requests), fake.validations) == (tokens, 2)
    fake.revoke_trust(trust_id)
    assert keystone.trust_still_usable(trust_id) is False
    assert trust_id not in keystone._trust_sessions
    # The refusal was confirmed by a rescope, which Keystone refused.
    assert fake.requests[tokens:] == [(['token'], ['OS-TRUST:trust'], 401)]
    assert len(fake.logins('password')) == 1


def test_a_trust_accepted_within_the_check_interval_is_reused_without_asking(
        fake, trustee):
    trust_id = _new_trust()                 # checked: accepted just now
    tokens = len(fake.requests)
    fake.revoke_trust(trust_id)
    assert keystone.trust_still_usable(trust_id) is True   # within 60 s
    assert (len(fake.requests), fake.validations) == (tokens, 0)
    trustee.set_override('trust_check_interval', 0, group='trustee')
    assert keystone.trust_still_usable(trust_id) is False


def test_a_shared_trust_without_a_cached_token_is_checked_by_a_rescope(fake, trustee):
    trustee.set_override('trust_check_interval', 0, group='trustee')
    trust_id = _new_trust()
    keystone._trust_sessions.clear()     # e.g. another manager made it
    tokens = len(fake.requests)
    assert keystone.trust_still_usable(trust_id) is True
    assert fake.requests[tokens:] == [(['token'], ['OS-TRUST:trust'], 201)]
    assert trust_id in keystone._trust_sessions
    fake.unavailable = 503
    with pytest.raises(exceptions.IdentityUnavailable):
        keystone.trust_still_usable(trust_id)


def test_a_trust_is_deleted_without_a_cached_session_and_without_a_login(fake, trustee):
    trust_id = _new_trust()
    keystone._trust_sessions.clear()     # e.g. another manager made it
    assert keystone.delete_trust(trust_id) is True
    assert trust_id not in fake.trusts
    assert len(fake.logins('password')) == 1
    # Already gone: still done (the trustee reads that it does not exist).
    assert keystone.delete_trust(trust_id) is True
    assert len(fake.logins('password')) == 1


def test_the_cache_is_bounded_least_recently_used_first_out(fake, trustee):
    trustee.set_override('trust_session_cache_size', 2, group='trustee')
    first, second, third = (_new_trust() for _ in range(3))
    assert len(keystone._trust_sessions) == 2
    assert first not in keystone._trust_sessions
    rescopes = len(fake.logins('token'))
    session = keystone.session_for_lease({'trust_id': first})
    session.get_token()
    assert len(fake.logins('token')) == rescopes + 1    # made again, no password
    assert second not in keystone._trust_sessions       # the least recently used
    assert {first, third} == {t for t in (first, second, third)
                              if t in keystone._trust_sessions}
    assert len(fake.logins('password')) == 1


def test_a_cache_of_size_zero_rescopes_at_every_use(fake, trustee):
    trustee.set_override('trust_session_cache_size', 0, group='trustee')
    trust_id = _new_trust()
    for _ in range(2):
        keystone.session_for_lease({'trust_id': trust_id}).get_token()
    assert len(fake.logins('token')) == 3
    assert len(fake.logins('password')) == 1


def test_a_trust_token_near_its_expiry_is_rescoped_without_a_login(fake, trustee):
    fake.trust_lifetime = 60      # inside keystoneauth's two-minute margin
    trust_id = _new_trust()
    checked = keystone.trust_session(trust_id)   # (not authenticated yet)
    first = keystone.session_for_lease({'trust_id': trust_id})
    assert first is checked
    first.get_token()
    second = keystone.session_for_lease({'trust_id': trust_id})
    assert second is not first    # dropped from the cache: its token nears expiry
    second.get_token()
    assert len(fake.logins('token')) == 3     # the check, then each use
    # A fresh one is kept.
    fake.trust_lifetime = None
    keystone._trust_sessions.clear()
    fresh = keystone.session_for_lease({'trust_id': trust_id})
    fresh.get_token()
    assert keystone.session_for_lease({'trust_id': trust_id}) is fresh
    assert len(fake.logins('password')) == 1


def test_the_service_logs_in_again_only_when_its_token_nears_expiry(fake, trustee):
    fake.lifetime = 60            # every service token is about to expire
    _new_trust()
    _new_trust()
    logins = len(fake.logins('password'))
    assert logins >= 2            # renewed when near expiry, as it must
    fake.lifetime = 3600
    keystone.reset_client()
    for _ in range(3):
        _new_trust()
    assert len(fake.logins('password')) == logins + 1


def test_a_revoked_trust_is_a_clear_403_at_create_and_nothing_is_kept(fake, trustee,
                                                                       monkeypatch):
    made = []
    real_create = keystone.create_trust

    def create_then_revoke(context):
        trust_id = real_create(context)
        made.append(trust_id)
        fake.revoke_trust(trust_id)      # the owner deletes it at once
        return trust_id
    monkeypatch.setattr(keystone, 'create_trust', create_then_revoke)
    with pytest.raises(exceptions.TrustNotUsable) as caught:
        _new_trust()
    assert caught.value.code == 403
    assert str(caught.value).startswith(
        'The Blazar service user cannot use trust %s: Keystone refused to scope a '
        'token to trust %s (it was deleted or has expired' % (made[0], made[0]))
    assert made[0] not in keystone._trust_sessions
    # Telling it from a refused service token cost no login.
    assert len(fake.logins('password')) == 1


def test_a_revoked_service_token_is_replaced_by_one_new_login(fake, trustee):
    first = _new_trust()
    fake.revoke_service_tokens()
    second = _new_trust()
    assert len(fake.logins('password')) == 2
    assert keystone.delete_trust(first) and keystone.delete_trust(second)


def test_a_trust_used_after_its_revocation_fails_clearly(fake, trustee):
    trust_id = _new_trust()
    session = keystone.session_for_lease({'trust_id': trust_id})
    fake.revoke_trust(trust_id)
    # keystoneauth retries a 401 once with a new token: refused.
    with pytest.raises(ks_exc.Unauthorized, match='Keystone refused to scope a token '
                                                   'to trust %s' % trust_id):
        session.get(fake.url + '/OS-TRUST/trusts/' + trust_id)
    assert len(fake.logins('password')) == 1


def test_without_rescoping_a_trust_session_falls_back_to_a_login(fake, trustee, caplog):
    fake.allow_rescope_scoped = False
    trust_id = _new_trust()
    access = keystone.session_for_lease({'trust_id': trust_id}).auth.get_access(None)
    assert access.trust_id == trust_id
    assert 'Keystone refuses to rescope' in caplog.text
    assert len(fake.logins('password')) == 2     # the service's, the trust's
    assert keystone.delete_trust(trust_id) is True


@pytest.mark.parametrize('status', [502, 503, 504])
def test_keystone_saying_it_is_unavailable_is_a_503(fake, trustee, status):
    trust_id = _new_trust()
    keystone._trust_sessions.clear()
    fake.unavailable = status
    for call in (lambda: keystone.create_trust(_owner()),
                 lambda: keystone.check_trust(trust_id),
                 lambda: keystone.session_for_lease({'trust_id': trust_id}).get_token()):
        with pytest.raises(exceptions.IdentityUnavailable) as caught:
            try:
                call()
            except Exception as exc:
                raise _translated(exc) from exc
        assert caught.value.code == 503
        assert str(caught.value).startswith('Identity service (Keystone) is unavailable')
    assert keystone.delete_trust(trust_id) is False


def _translated(exc):
    """What the manager's callers see of an error from a session in use."""
    try:
        with keystone.translate_errors():
            raise exc
    except Exception as translated:
        return translated


def test_keystone_unreachable_is_a_503(fake, trustee):
    trust_id = _new_trust()
    fake.stop()
    keystone.reset_client()
    for call in (lambda: keystone.create_trust(_owner()),
                 lambda: keystone.check_trust(trust_id),
                 lambda: _new_trust()):
        with pytest.raises(exceptions.IdentityUnavailable) as caught:
            call()
        assert caught.value.code == 503
        assert 'Unable to establish connection' in str(caught.value)
    assert keystone.delete_trust(trust_id) is False


def test_keystone_failing_otherwise_is_a_502(fake, trustee):
    fake.unavailable = 500
    with pytest.raises(exceptions.IdentityError) as caught:
        keystone.create_trust(_owner())
    assert caught.value.code == 502


def test_a_service_user_that_cannot_log_in_is_the_service_s_error(fake, trustee):
    trustee.set_override('password', 'wrong', group='trustee')
    keystone.reset_client()
    trust_id = fake.trust_for_owner()
    with pytest.raises(exceptions.IdentityError, match=r'service user \(\[trustee\]\) '
                                                       'cannot authenticate'):
        keystone.check_trust(trust_id)


def test_remove_trust_tells_what_to_retry(fake, trustee):
    """For a step retried until done: gone is done, Keystone unavailable is
    raised (retry), a trust Blazar may not delete is given up (logged)."""
    trust_id = _new_trust()
    fake.unavailable = 503
    with pytest.raises(exceptions.IdentityUnavailable):
        keystone.remove_trust(trust_id)
    fake.unavailable = None
    assert keystone.remove_trust(trust_id) is True
    assert keystone.remove_trust(trust_id) is True      # already gone
    kept = _new_trust()
    fake.trusts[kept]['unusable'] = True    # e.g. its owner lost the roles:
    for token in fake.tokens.values():      # Keystone revokes its tokens
        if token['trust'] == kept:
            token['revoked'] = True
    assert keystone.remove_trust(kept) is False
    assert kept in fake.trusts
    assert len(fake.logins('password')) == 1
