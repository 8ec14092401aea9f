"""The Keystone trust a lease holds, from its creation to its end.

With ``auth_strategy = keystone`` a lease is created only with a trust from
its creator to the Blazar service user (``blazar/clients/keystone.py``),
so that the manager can act as the owner later (``keystone.
session_for_lease``). The trust is made and tried before the lease is
stored: a caller whose token cannot delegate gets a 403 at create, never a
lease that fails at its start. It lives as long as it is needed: it is
deleted once the lease's end has completed, or when the lease is deleted,
by a deferred call made after the commit (blazar/deferred.py), so that no
request waits on Keystone for it and a failure is retried.
With ``noauth`` there is no trust and ``trust_id`` stays null.

None of this logs in to Keystone with a password: the trust is made with
the caller's token, and checked, used and deleted with the service user's
one token rescoped to the trust (see ``blazar/clients/keystone.py``).
"""
import logging

from blazar import deferred
from blazar.clients import keystone
from blazar.db import api as db_api

LOG = logging.getLogger(__name__)
RELEASE = 'trust.delete'


def create(context, undo):
    """The id of a new, usable trust for a lease being created by the
    caller of ``context`` (None with noauth). ``undo`` deletes it again if
    the lease is not created after all."""
    if not keystone.enabled():
        return None
    trust_id = keystone.create_trust(context)
    undo.add(keystone.delete_trust, trust_id)
    keystone.check_trust(trust_id)
    return trust_id


def release(context, lease):
    """Inside the transaction that ends a lease: its trust is deleted after
    the commit (a deferred call, retried while Keystone fails) and its id
    forgotten once gone."""
    if lease.get('trust_id'):
        deferred.add(context, RELEASE, {'trust_id': lease['trust_id'],
                                        'lease_id': lease['id']})


def forget(context, lease):
    """Inside the transaction that deletes a lease: its trust goes after."""
    if lease.get('trust_id'):
        deferred.add(context, RELEASE, {'trust_id': lease['trust_id']})


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
