"""The service's only door to Keystone (identity v3): trusts.

Why it looks like this:

* The Blazar service user (the *trustee*) comes from the standard
  keystoneauth options of ``[trustee]`` (any auth plugin, usually
  ``password``, plus the session options): no auth code of our own.
* **One login per process.** The trustee's session is built once and kept;
  keystoneauth authenticates it on first use and again only when its token
  is about to expire (two minutes ahead) or after Keystone refused it. With
  Keystone's default bcrypt cost a password check is about 0.3 s of CPU, so
  nothing here logs in per request.
* A trust is created with the caller's own token (only the trustor may
  create it), sent to the identity endpoint found from ``[trustee]
  auth_url`` by keystoneauth's version discovery.
* The manager acts for a lease's owner with a session of the trustee
  scoped to the lease's trust (``trust_session``, ``session_for_lease``):
  the trust is an impersonating one, so such a session acts as the owner,
  in the owner's project, with the owner's roles at create time. Its token
  is the trustee's current token **rescoped** to the trust (``POST
  /v3/auth/tokens``, method ``token``, scope ``OS-TRUST:trust``): Keystone
  checks no password for it, and gives it the expiry of the token it came
  from (or the trust's, if sooner). When it nears expiry keystoneauth
  rescopes again from the trustee's then current token.
* Trust-scoped sessions are cached per trust, least recently used first
  out beyond ``[trustee] trust_session_cache_size``, dropped when their
  token nears expiry and when the trust is deleted. They share the
  trustee's HTTP connection pool.
* ``check_trust`` (at lease create with a new trust) always asks
  Keystone afresh, never the cache: a trust Keystone will not scope a
  token to (deleted, expired, its trustor lost a delegated role) is a 403
  at create, never a lease that fails later. Keystone answers such a
  rescope with a bare 401, as it does for a revoked service token; the
  trustee's own token is then validated (no password either) and, if it
  is the one Keystone no longer accepts, the trustee logs in again and the
  rescope is tried once more.
* A trust shared with earlier leases is checked by validating its cached
  trust-scoped token (``trust_still_usable``): Keystone answers from its
  cache and revocation list, without a new token. One it no longer
  accepts is not shared any more (the create makes a new trust).
* Keystone lets only the trustor (or an administrator) delete a trust. The
  trust-scoped session (rescoped, so no login) is the trustor, so it
  deletes the trust; if that is not possible any more the trustee's own
  session tries (it succeeds when the service user is an administrator,
  and tells a trust that is already gone).
* If Keystone refuses to rescope a scoped token (``[token]
  allow_rescope_scoped_token = false``) and the trustee's token is scoped
  (the service user has a default project), a trust-scoped session logs in
  with the trustee's own ``[trustee]`` credentials instead, as before this
  design (a warning says so once): correct, but a login per trust again.
* Every failure becomes a ``blazar.exceptions`` error: ``TrustNotCreated``
  or ``TrustNotUsable`` (403) for what the caller's identity cannot do,
  ``IdentityUnavailable`` (503) when Keystone cannot be reached or answers
  that it is unavailable (502, 503, 504), ``IdentityError`` (502)
  otherwise (including a broken ``[trustee]``).
"""
import collections
import contextlib
import logging
import threading
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import plugin as ks_plugin
from keystoneauth1 import token_endpoint
from keystoneauth1.identity import base as ks_identity_base
from keystoneauth1.identity import v3

from blazar import clients
from blazar import exceptions
from blazar.conf import CONF

LOG = logging.getLogger(__name__)
GROUP = 'trustee'
IDENTITY_VERSION = (3, 0)
TRUSTS = '/OS-TRUST/trusts'
# A token this close to its expiry is replaced before use (keystoneauth's
# own margin for re-authenticating).
STALE_SECONDS = ks_identity_base.BaseIdentityPlugin.MIN_TOKEN_LIFE_SECONDS
# Scopes a token for a trust must not carry besides the trust.
_OTHER_SCOPES = ('project_id', 'project_name', 'project_domain_id',
                 'project_domain_name', 'domain_id', 'domain_name', 'system_scope')
# Keystone's own answers meaning "not now" rather than "no".
_UNAVAILABLE_STATUSES = (502, 503, 504)
_UNAVAILABLE = (ks_exc.ConnectionError, ks_exc.BadGateway, ks_exc.ServiceUnavailable,
                ks_exc.GatewayTimeout)
_REFUSED = (ks_exc.Unauthorized, ks_exc.Forbidden, ks_exc.NotFound)


def enabled():
    """Leases hold trusts when the API authenticates callers with Keystone."""
    return CONF.auth_strategy == 'keystone'


def _reason(exc):
    message = getattr(exc, 'message', None) or str(exc) or type(exc).__name__
    code = getattr(exc, 'http_status', None)
    if code and '(HTTP %s)' % code not in str(message):
        return '%s (HTTP %s)' % (message, code)
    return str(message)


def _answer(resp):
    """Keystone's error message in a response, with its status."""
    try:
        message = resp.json()['error']['message']
    except (ValueError, KeyError, TypeError):
        message = resp.text[:300] or resp.reason
    return '%s (HTTP %s)' % (message, resp.status_code)


def _unavailable(exc):
    """Whether a keystoneauth error means Keystone cannot answer now (it
    is down, unreachable, or says so), including a version discovery that
    failed for that reason."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, _UNAVAILABLE):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


@contextlib.contextmanager
def translate_errors():
    """Turn keystoneauth errors into ``blazar.exceptions``."""
    try:
        yield
    except exceptions.BlazarException:
        raise
    except ks_exc.ClientException as exc:
        if _unavailable(exc):
            raise exceptions.IdentityUnavailable(reason=_reason(exc)) from exc
        raise exceptions.IdentityError(reason=_reason(exc)) from exc


def _auth(trust_id=None):
    """The trustee's auth plugin from ``[trustee]``, scoped to ``trust_id``
    (and to nothing else) when one is given."""
    group = CONF[GROUP].auth_section or GROUP
    name = CONF[group].auth_type
    if not name:
        raise exceptions.IdentityError(
            reason='[trustee] auth_type is not set: with auth_strategy = '
                   'keystone Blazar needs its service user there')
    scope = {}
    if trust_id is not None:
        dests = {opt.dest for opt in ks_loading.get_plugin_loader(name).get_options()}
        if 'trust_id' not in dests:
            raise exceptions.IdentityError(
                reason='[trustee] auth_type %s cannot be scoped to a trust' % name)
        scope = {key: None for key in _OTHER_SCOPES if key in dests}
        scope['trust_id'] = trust_id
    return ks_loading.load_auth_from_conf_options(CONF, GROUP, **scope)


def _session(auth, **kwargs):
    """A session with the ``[trustee]`` session options (TLS, timeout);
    ``session=`` shares an HTTP connection pool (the trustee's)."""
    return ks_loading.load_session_from_conf_options(CONF, GROUP, auth=auth, **kwargs)


def _build_trustee_session():
    with translate_errors():
        return _session(_auth())


_trustee = clients.Cached(_build_trustee_session)


def reset_client():
    """Forget the cached trustee session and trust-scoped sessions (tests,
    reconfiguration)."""
    _trustee.reset()
    _trust_sessions.clear()


def identity_url():
    """The identity v3 endpoint (from ``[trustee] auth_url``)."""
    with translate_errors():
        return _trustee.get().get_endpoint(
            interface=ks_plugin.AUTH_INTERFACE,
            version=IDENTITY_VERSION).rstrip('/')


def trustee_user_id():
    with translate_errors():
        try:
            return _trustee.get().get_user_id()
        except ks_exc.Unauthorized as exc:
            raise exceptions.IdentityError(
                reason='the Blazar service user ([trustee]) cannot authenticate: '
                       '%s' % _reason(exc)) from exc


def create_trust(context):
    """A new trust from the caller of ``context`` (trustor) to the Blazar
    service user (trustee): impersonating, with the caller's roles in the
    caller's project, made with the caller's token. Returns its id."""
    user = context.user_id
    if not context.auth_token:
        raise exceptions.TrustNotCreated(
            user=user, reason='the request carries no Keystone token')
    trustee = trustee_user_id()
    url = identity_url()
    body = {'trust': {
        'trustor_user_id': user, 'trustee_user_id': trustee,
        'impersonation': True, 'project_id': context.project_id,
        'roles': [{'name': role} for role in context.roles or []]}}
    with translate_errors():
        caller = _session(token_endpoint.Token(url, context.auth_token),
                          session=_trustee.get().session)
        resp = caller.post(url + TRUSTS, json=body, raise_exc=False)
    if resp.status_code == 201:
        trust_id = resp.json()['trust']['id']
        LOG.info('Trust %s created from user %s (project %s) to %s', trust_id,
                 user, context.project_id, trustee)
        return trust_id
    if 400 <= resp.status_code < 500:
        raise exceptions.TrustNotCreated(user=user, reason=_answer(resp))
    if resp.status_code in _UNAVAILABLE_STATUSES:
        raise exceptions.IdentityUnavailable(reason='creating a trust: %s'
                                             % _answer(resp))
    raise exceptions.IdentityError(reason='creating a trust: %s' % _answer(resp))


# --- trust-scoped sessions, without a password login ------------------------
class _TrusteeToken(v3.AuthMethod):
    """The ``token`` method with the trustee's current token, read when the
    request is made (so a rescope after the trustee logged in again uses the
    new token)."""

    def __init__(self, trustee):
        super().__init__()
        self._trustee = trustee

    def get_auth_data(self, session, auth, headers, request_kwargs=None, **kwargs):
        token = _trustee_token(self._trustee)
        headers['X-Auth-Token'] = token
        return 'token', {'id': token}


def _trustee_token(trustee):
    """The service user's current token (a login only if it has none or it
    nears expiry); its failure to authenticate is the service's problem,
    never a trust's."""
    with translate_errors():
        try:
            return trustee.get_token()
        except ks_exc.Unauthorized as exc:
            raise exceptions.IdentityError(
                reason='the Blazar service user ([trustee]) cannot authenticate: '
                       '%s' % _reason(exc)) from exc


_rescope_refused_warned = []


class TrustAuth(v3.Auth):
    """The trustee's token rescoped to one trust: no password is checked.

    A refusal (401) is either the trust's fault or the trustee token's: in
    the second case the trustee authenticates again (its only login) and
    the rescope is tried once more."""

    def __init__(self, auth_url, trust_id, trustee):
        super().__init__(auth_url, [_TrusteeToken(trustee)], trust_id=trust_id)
        self._trustee = trustee
        self._password_auth = None   # only if Keystone refuses to rescope

    def get_auth_ref(self, session, **kwargs):
        if self._password_auth is not None:
            return self._password_auth.get_auth_ref(session)
        try:
            try:
                return super().get_auth_ref(session, **kwargs)
            except ks_exc.Unauthorized:
                if _token_valid(self._trustee):
                    raise
                LOG.info('The service user\'s token was refused; authenticating again')
                self._trustee.invalidate()
                return super().get_auth_ref(session, **kwargs)
        except ks_exc.Unauthorized as exc:
            raise ks_exc.Unauthorized(
                message='Keystone refused to scope a token to trust %s (it was '
                        'deleted or has expired, or its trustor lost a role it '
                        'delegates): %s' % (self.trust_id, exc.message),
                http_status=exc.http_status, response=exc.response,
                url=exc.url, method=exc.method) from exc
        except ks_exc.Forbidden as exc:
            if 'rescope' not in str(exc):
                raise
            # [token] allow_rescope_scoped_token = false: a login per trust.
            if not _rescope_refused_warned:
                _rescope_refused_warned.append(True)
                LOG.warning('Keystone refuses to rescope the service user\'s token '
                            '(%s): trust-scoped sessions log in with the [trustee] '
                            'credentials instead, a password check each. Give the '
                            '[trustee] user no default project, or allow rescoping '
                            'scoped tokens in Keystone.', _reason(exc))
            self._password_auth = _auth(self.trust_id)
            return self._password_auth.get_auth_ref(session)


def _token_valid(trustee):
    """Whether Keystone still accepts the trustee's current token (a token
    validation: no password checked; no new login on a 401)."""
    try:
        resp = _validation(trustee, _trustee_token(trustee), allow_reauth=False)
    except (ks_exc.ClientException, exceptions.BlazarException):
        return False
    return resp.status_code == 200


def _validation(trustee, token, **kwargs):
    """Keystone's answer to validating ``token`` (``GET /v3/auth/tokens``)
    with the trustee's session: no password, no new token."""
    return trustee.get(identity_url() + '/auth/tokens',
                       headers={'X-Subject-Token': token}, raise_exc=False, **kwargs)


def _new_trust_session(trust_id):
    trustee = _trustee.get()
    return _session(TrustAuth(identity_url(), trust_id, trustee), session=trustee.session)


def _stale(session):
    """Whether a cached session's token is about to expire: better made
    afresh. (A session whose token Keystone refused has none: it rescopes
    at its next use, which is as cheap.)"""
    auth = session.auth
    if getattr(auth, '_password_auth', None) is not None:
        return False
    ref = auth.auth_ref
    return ref is not None and ref.will_expire_soon(STALE_SECONDS)


class TrustSessions:
    """Trust-scoped sessions by trust id: the most recently used first,
    at most ``[trustee] trust_session_cache_size`` of them, none whose token
    nears its expiry; with when Keystone last accepted each trust (its
    check, or a validation of its token), for ``trust_still_usable``."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sessions = collections.OrderedDict()
        self._accepted = {}

    def get(self, trust_id):
        with self._lock:
            session = self._sessions.get(trust_id)
            if session is None:
                return None
            if _stale(session):
                self._pop(trust_id)
                return None
            self._sessions.move_to_end(trust_id)
            return session

    def put(self, trust_id, session, accepted=False):
        size = CONF[GROUP].trust_session_cache_size
        with self._lock:
            self._sessions[trust_id] = session
            self._sessions.move_to_end(trust_id)
            if accepted:
                self._accepted[trust_id] = time.monotonic()
            while len(self._sessions) > size:
                self._pop(next(iter(self._sessions)))

    def accepted(self, trust_id):
        """Keystone accepted the trust just now."""
        with self._lock:
            if trust_id in self._sessions:
                self._accepted[trust_id] = time.monotonic()

    def accepted_within(self, trust_id, seconds):
        with self._lock:
            at = self._accepted.get(trust_id)
            return at is not None and time.monotonic() - at < seconds

    def _pop(self, trust_id):
        self._sessions.pop(trust_id, None)
        self._accepted.pop(trust_id, None)

    def drop(self, trust_id):
        with self._lock:
            self._pop(trust_id)

    def clear(self):
        with self._lock:
            self._sessions.clear()
            self._accepted.clear()

    def __len__(self):
        with self._lock:
            return len(self._sessions)

    def __contains__(self, trust_id):
        with self._lock:
            return trust_id in self._sessions


_trust_sessions = TrustSessions()


def trust_session(trust_id):
    """A keystoneauth session of the Blazar service user scoped to
    ``trust_id``: it acts as the trustor, in the trust's project, with the
    trust's roles. Its token is the service user's rescoped to the trust
    (no password login); it is made on first use and cached. Use it with
    any OpenStack client (novaclient, an Adapter...)."""
    session = _trust_sessions.get(trust_id)
    if session is None:
        with translate_errors():
            session = _new_trust_session(trust_id)
        _trust_sessions.put(trust_id, session)
    return session


def session_for_lease(lease):
    """The trust-scoped session of a lease's owner, or None when the lease
    holds no trust (auth_strategy = noauth): then use the service's own
    credentials. For plugins needing owner-scoped calls at start or end."""
    trust_id = lease.get('trust_id')
    return trust_session(trust_id) if trust_id else None


def check_trust(trust_id):
    """Scope a token to the trust now (asking Keystone, not the cache), so
    that a trust that cannot be used is refused at lease creation rather
    than failing at its start. The session is kept for the lease's later
    use."""
    with translate_errors():
        session = _new_trust_session(trust_id)
        try:
            session.get_token()
        except _REFUSED as exc:
            raise exceptions.TrustNotUsable(trust_id=trust_id,
                                            reason=_reason(exc)) from exc
    _trust_sessions.put(trust_id, session, accepted=True)
    return session


def trust_still_usable(trust_id):
    """Whether Keystone still scopes tokens to a trust a lease holds, so a
    new lease may hold it too. A trust Keystone accepted less than
    ``[trustee] trust_check_interval`` seconds ago (in this process) is
    taken as it is; otherwise the cached trust-scoped token is validated
    (no password, no new token), and without a cached token, or if the
    validation fails, the trust is checked as a new one (``check_trust``,
    a rescope). False if Keystone refuses it; raises
    ``IdentityUnavailable`` or ``IdentityError`` as the other calls do."""
    if _trust_sessions.accepted_within(trust_id, CONF[GROUP].trust_check_interval):
        return True
    session = _trust_sessions.get(trust_id)
    if session is not None and _token_still_valid(session):
        _trust_sessions.accepted(trust_id)
        return True
    try:
        check_trust(trust_id)
    except exceptions.TrustNotUsable:
        _trust_sessions.drop(trust_id)
        return False
    return True


def _token_still_valid(session):
    """One token validation of a trust-scoped session's token; a failure
    that is not Keystone's unavailability means "check it afresh"."""
    with translate_errors():
        resp = _validation(_trustee.get(), session.get_token())
    if resp.status_code in _UNAVAILABLE_STATUSES:
        raise exceptions.IdentityUnavailable(reason='validating a trust\'s token: %s'
                                             % _answer(resp))
    return resp.status_code == 200


def _delete_with(what, session, url, trust_id):
    """(done, go on): whether the trust is gone, and whether another way
    of deleting it is worth trying. Raises what is not a refusal."""
    try:
        resp = session.delete('%s%s/%s' % (url, TRUSTS, trust_id), raise_exc=False)
    except _REFUSED as exc:
        LOG.info('Cannot authenticate (%s) to delete trust %s: %s', what, trust_id,
                 _reason(exc))
        return False, True
    if resp.status_code in (204, 404):
        LOG.info('Trust %s deleted', trust_id)
        return True, False
    if resp.status_code in _UNAVAILABLE_STATUSES:
        raise exceptions.IdentityUnavailable(reason='deleting trust %s: %s'
                                             % (trust_id, _answer(resp)))
    LOG.info('Keystone refused to delete trust %s (%s): %s', trust_id, what,
             _answer(resp))
    return False, resp.status_code in (401, 403)


def _already_gone(trustee, url, trust_id):
    """Whether Keystone says the trust does not exist (the trustee may read
    its trusts)."""
    resp = trustee.get('%s%s/%s' % (url, TRUSTS, trust_id), raise_exc=False)
    return resp.status_code == 404


def remove_trust(trust_id):
    """Delete a trust, looking before acting: True once Keystone no longer
    has it (already gone included); False (logged) if Keystone refuses
    both ways Blazar has (the owner lost the roles it delegated and the
    service user is no administrator): trying again would not help. Raises
    ``IdentityUnavailable`` (Keystone down or unavailable) or
    ``IdentityError``: then it is worth trying later. Never logs in with a
    password (but for the service's own first login). For a step that is
    retried until done."""
    cached = _trust_sessions.get(trust_id)
    _trust_sessions.drop(trust_id)
    with translate_errors():
        url = identity_url()
        trustee = _trustee.get()
        attempts = (('trust-scoped', cached or _new_trust_session(trust_id)),
                    ('trustee', trustee))
        for what, session in attempts:
            done, go_on = _delete_with(what, session, url, trust_id)
            if done:
                return True
            if not go_on:
                raise exceptions.IdentityError(
                    reason='Keystone did not delete trust %s (see the log)' % trust_id)
        if _already_gone(trustee, url, trust_id):
            LOG.info('Trust %s no longer exists', trust_id)
            return True
    LOG.warning('Trust %s cannot be deleted by Blazar (its owner lost the roles it '
                'delegates, and the service user is no administrator); its owner '
                'may delete it', trust_id)
    return False


def delete_trust(trust_id):
    """Delete a trust; True once Keystone no longer has it, False (logged)
    if it could not be deleted now. Never raises, never logs in with a
    password (but for the service's own first login)."""
    try:
        return remove_trust(trust_id)
    except exceptions.BlazarException as exc:
        LOG.warning('Trust %s not deleted; it is kept for a later attempt: %s',
                    trust_id, exc)
        return False
