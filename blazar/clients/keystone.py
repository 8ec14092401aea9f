"""The service's only door to Keystone (identity v3): trusts.

Why it looks like this:

* The Blazar service user (the *trustee*) comes from the standard
  keystoneauth options of ``[trustee]`` (any auth plugin, usually
  ``password``, plus the session options): no auth code of our own.
* A trust is created with the caller's own token (only the trustor may
  create it), sent to the identity endpoint found from ``[trustee]
  auth_url`` by keystoneauth's version discovery.
* The manager acts for a lease's owner with a session of the trustee
  scoped to the lease's trust (``trust_session``, ``session_for_lease``):
  the trust is an impersonating one, so such a session acts as the owner,
  in the owner's project, with the owner's roles at create time.
* The same trust-scoped session deletes the trust when the lease is over
  (Keystone lets the trustor delete a trust; a trust-scoped token of an
  impersonating trust is the trustor). If that is no longer possible, the
  trustee's own session tries (it succeeds when the service user has the
  admin role).
* Every failure becomes a ``blazar.exceptions`` error: ``TrustNotCreated``
  or ``TrustNotUsable`` (403) for what the caller's identity cannot do,
  ``IdentityUnavailable`` (503) when Keystone cannot be reached,
  ``IdentityError`` (502) otherwise (including a broken ``[trustee]``).
"""
import contextlib
import logging

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import plugin as ks_plugin
from keystoneauth1 import token_endpoint

from blazar import clients
from blazar import exceptions
from blazar.conf import CONF

LOG = logging.getLogger(__name__)
GROUP = 'trustee'
IDENTITY_VERSION = (3, 0)
TRUSTS = '/OS-TRUST/trusts'
# Scopes a token for a trust must not carry besides the trust.
_OTHER_SCOPES = ('project_id', 'project_name', 'project_domain_id',
                 'project_domain_name', 'domain_id', 'domain_name', 'system_scope')


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


@contextlib.contextmanager
def translate_errors():
    """Turn keystoneauth errors into ``blazar.exceptions``."""
    try:
        yield
    except exceptions.BlazarException:
        raise
    except ks_exc.ConnectionError as exc:
        raise exceptions.IdentityUnavailable(reason=_reason(exc)) from exc
    except ks_exc.ClientException as exc:
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


def _session(auth):
    return ks_loading.load_session_from_conf_options(CONF, GROUP, auth=auth)


def _build_trustee_session():
    with translate_errors():
        return _session(_auth())


_trustee = clients.Cached(_build_trustee_session)


def reset_client():
    """Forget the cached trustee session (tests, reconfiguration)."""
    _trustee.reset()


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
        caller = _session(token_endpoint.Token(url, context.auth_token))
        resp = caller.post(url + TRUSTS, json=body, raise_exc=False)
    if resp.status_code == 201:
        trust_id = resp.json()['trust']['id']
        LOG.info('Trust %s created from user %s (project %s) to %s', trust_id,
                 user, context.project_id, trustee)
        return trust_id
    if 400 <= resp.status_code < 500:
        raise exceptions.TrustNotCreated(user=user, reason=_answer(resp))
    raise exceptions.IdentityError(reason='creating a trust: %s' % _answer(resp))


def trust_session(trust_id):
    """A keystoneauth session of the Blazar service user scoped to
    ``trust_id``: it acts as the trustor, in the trust's project, with the
    trust's roles. It authenticates on first use (``check_trust`` does at
    once); use it with any OpenStack client (novaclient, an Adapter...)."""
    with translate_errors():
        return _session(_auth(trust_id))


def session_for_lease(lease):
    """The trust-scoped session of a lease's owner, or None when the lease
    holds no trust (auth_strategy = noauth): then use the service's own
    credentials. For plugins needing owner-scoped calls at start or end."""
    trust_id = lease.get('trust_id')
    return trust_session(trust_id) if trust_id else None


def check_trust(trust_id):
    """Authenticate with the trust now, so that a trust that cannot be used
    is refused at lease creation rather than failing at its start."""
    session = trust_session(trust_id)
    with translate_errors():
        try:
            session.get_token()
        except (ks_exc.Unauthorized, ks_exc.Forbidden, ks_exc.NotFound) as exc:
            raise exceptions.TrustNotUsable(trust_id=trust_id,
                                            reason=_reason(exc)) from exc
    return session


def delete_trust(trust_id):
    """Delete a trust; True once Keystone no longer has it, False (logged)
    if it could not be deleted now. Never raises."""
    attempts = (('trust-scoped', lambda: trust_session(trust_id)),
                ('trustee', _trustee.get))
    for what, get_session in attempts:
        try:
            url = identity_url()
            resp = get_session().delete('%s%s/%s' % (url, TRUSTS, trust_id),
                                        raise_exc=False)
        except (ks_exc.Unauthorized, ks_exc.Forbidden, ks_exc.NotFound) as exc:
            LOG.info('Cannot authenticate (%s) to delete trust %s: %s', what,
                     trust_id, _reason(exc))
            continue
        except (ks_exc.ClientException, exceptions.BlazarException) as exc:
            LOG.warning('Trust %s not deleted (%s): %s', trust_id, what, exc)
            return False
        if resp.status_code in (204, 404):
            LOG.info('Trust %s deleted', trust_id)
            return True
        LOG.info('Keystone refused to delete trust %s (%s): %s', trust_id, what,
                 _answer(resp))
    LOG.warning('Trust %s could not be deleted; it is kept for a later attempt',
                trust_id)
    return False
