"""The Keystone trust a lease holds, from its creation to its end.

With ``auth_strategy = keystone`` a lease is created only with a trust from
its creator to the Blazar service user (``blazar/clients/keystone.py``),
so that the manager can act as the owner later (``keystone.
session_for_lease``). The trust is made and tried before the lease is
stored: a caller whose token cannot delegate gets a 403 at create, never a
lease that fails at its start.

Leases of the same owner, project and roles share one trust (``[trustee]
share_trusts``): making a trust and scoping a token to it cost Keystone
about 0.3 s, most of a create. A create reuses the newest listed trust of
its key (table ``trusts``) once Keystone still accepts the token this
process holds for it (a validation, no new token), and lists a trust it
made. A trust lives as long as a lease holds it: when a lease ends or is
deleted and no other lease holds its trust, the trust is delisted and
deleted by a deferred call made after the commit (blazar/deferred.py), so
that no request waits on Keystone for it and a failure is retried. Both
sides run under the allocation lock, so a create that chose a trust which
its last lease let go meanwhile finds it delisted at its commit
(``Released``) and makes a trust of its own.
With ``noauth`` there is no trust and ``trust_id`` stays null.

None of this logs in to Keystone with a password: the trust is made with
the caller's token, and checked, used and deleted with the service user's
one token rescoped to the trust (see ``blazar/clients/keystone.py``).
"""
import collections
import hashlib
import logging

from oslo_config import cfg

from blazar import deferred
from blazar.clients import keystone
from blazar.db import api as db_api

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
RELEASE = 'trust.delete'

# A create's trust: its id, and the ``trusts`` row to list it by (None if
# it was already listed, or is not to be shared).
Held = collections.namedtuple('Held', 'trust_id new listing')


class Released(Exception):
    """The shared trust a create chose was let go before the create could
    commit."""


def roles_digest(roles):
    return hashlib.sha256(','.join(sorted(set(roles or ()))).encode()).hexdigest()


def acquire(context, undo, reuse=True):
    """The trust a lease being created by the caller of ``context`` will
    hold (a ``Held``; None with noauth): a shared one Keystone still
    accepts (unless not ``reuse``), or a new, checked one, which ``undo``
    deletes again if the lease is not created after all. Before the
    allocation lock."""
    if not keystone.enabled():
        return None
    share = CONF.trustee.share_trusts
    key = {'user_id': context.user_id, 'project_id': context.project_id,
           'roles_digest': roles_digest(context.roles)}
    if share and reuse:
        trust_id = db_api.trust_reusable(context, **key)
        if trust_id is not None:
            if keystone.trust_still_usable(trust_id):
                return Held(trust_id, False, None)
            LOG.info('Trust %s is no longer accepted by Keystone: not shared any more',
                     trust_id)
            db_api.trust_drop(context, trust_id)
    trust_id = keystone.create_trust(context)
    undo.add(keystone.delete_trust, trust_id)
    keystone.check_trust(trust_id)
    return Held(trust_id, True, dict(key, id=trust_id) if share else None)


def hold(context, held):
    """Under the allocation lock, in the create's transaction: list a new
    trust, or make sure a shared one was not let go meanwhile."""
    if held is None:
        return
    if held.listing is not None:
        db_api.trust_record(context, held.listing)
    elif not held.new and not db_api.trust_listed(context, held.trust_id):
        raise Released()


def release(context, lease):
    """Inside the transaction (under the lock) that ends a lease: it holds
    its trust no more; the trust is deleted after the commit (a deferred
    call, retried while Keystone fails) if no other lease holds it."""
    if _let_go(context, lease, {'trust_id': lease.get('trust_id'),
                                'lease_id': lease['id']}):
        db_api.lease_update(context, lease['id'], {'trust_id': None})


def forget(context, lease):
    """Inside the transaction (under the lock) that deletes a lease."""
    _let_go(context, lease, {'trust_id': lease.get('trust_id')})


def _let_go(context, lease, payload):
    """True if other leases still hold the trust (it stays)."""
    trust_id = payload['trust_id']
    if not trust_id:
        return False
    if db_api.trust_held_by_others(context, trust_id, lease['id']):
        return True
    db_api.trust_drop(context, trust_id)
    deferred.add(context, RELEASE, payload)
    return False


@deferred.handler(RELEASE)
def _release(context, payload):
    """Raises while Keystone is unavailable (the call is retried); a trust
    Keystone refuses to delete for good is left, and said so."""
    if not keystone.remove_trust(payload['trust_id']):
        LOG.warning('Trust %s cannot be deleted (Keystone refuses); it is left',
                    payload['trust_id'])
        return
    if payload.get('lease_id'):
        lease = db_api.lease_get(context, payload['lease_id'])
        if lease is not None and lease.get('trust_id') == payload['trust_id']:
            db_api.lease_update(context, lease['id'], {'trust_id': None})
