"""Keystone trusts that lease creates may share (blazar/manager/trusts.py).

``trust_record`` and ``trust_drop`` run under the allocation lock, as the
lease writes that take a trust or let it go do: a trust is never dropped
between a create's choice of it and that create's commit unnoticed
(``trust_listed`` under the lock tells)."""
import sqlalchemy as sa

from blazar.db import models
from blazar.db.api.core import _create
from blazar.db.api.core import _reader
from blazar.db.api.core import transaction

__all__ = [
    'trust_reusable',
    'trust_listed',
    'trust_record',
    'trust_drop',
    'trust_held_by_others',
]

_Trust = models.Trust


def trust_reusable(context, user_id, project_id, roles_digest):
    """The id of the newest listed trust of this owner, project and roles,
    or None (one indexed statement)."""
    with _reader(context) as session:
        return session.scalar(
            sa.select(_Trust.id).where(_Trust.user_id == user_id,
                                       _Trust.project_id == project_id,
                                       _Trust.roles_digest == roles_digest)
            .order_by(_Trust.created_at.desc()).limit(1))


def trust_listed(context, trust_id):
    """Whether the trust is still offered for reuse (not let go by its
    last lease)."""
    with _reader(context) as session:
        return session.scalar(sa.select(_Trust.id).where(_Trust.id == trust_id)) is not None


def trust_record(context, values):
    """List a new trust for reuse: id, user_id, project_id, roles_digest."""
    return _create(context, _Trust, values)


def trust_drop(context, trust_id):
    """Stop offering a trust (its last lease let it go, or Keystone no
    longer scopes tokens to it)."""
    with transaction(context) as session:
        session.execute(sa.delete(_Trust).where(_Trust.id == trust_id))


def trust_held_by_others(context, trust_id, lease_id):
    """Whether a lease other than ``lease_id`` holds the trust (one
    statement on the leases' trust index)."""
    with _reader(context) as session:
        return session.scalar(sa.select(sa.exists().where(
            models.Lease.trust_id == trust_id, models.Lease.id != lease_id)))
