"""The Keystone trust a lease holds, from its creation to its end.

With ``auth_strategy = keystone`` a lease is created only with a trust from
its creator to the Blazar service user (``blazar/clients/keystone.py``),
so that the manager can act as the owner later (``keystone.
session_for_lease``). The trust is made and tried before the lease is
stored: a caller whose token cannot delegate gets a 403 at create, never a
lease that fails at its start. It lives as long as it is needed: it is
deleted once the lease's end has completed, or when the lease is deleted.
With ``noauth`` there is no trust and ``trust_id`` stays null.

None of this logs in to Keystone with a password: the trust is made with
the caller's token, and checked, used and deleted with the service user's
one token rescoped to the trust (see ``blazar/clients/keystone.py``).
"""
import logging

from blazar.clients import keystone
from blazar.db import api as db_api

LOG = logging.getLogger(__name__)


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
    """After a lease's end completed: delete its trust and forget its id
    (kept if Keystone could not delete it, so that deleting the lease tries
    again)."""
    trust_id = lease.get('trust_id')
    if trust_id and keystone.delete_trust(trust_id):
        db_api.lease_update(context, lease['id'], {'trust_id': None})


def forget(lease):
    """After a lease was deleted: delete the trust it held, if any."""
    if lease.get('trust_id'):
        keystone.delete_trust(lease['trust_id'])
