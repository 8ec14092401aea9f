"""Floating IPs: the registered addresses, floating-IP reservations and who
holds which address when.

Allocation rows keep upstream's columns (no dates of their own): the
window of an allocation is its lease's, read by joining the reservation and
the lease (both on primary keys)."""
from oslo_db import exception as db_exc
import sqlalchemy as sa

from blazar import exceptions
from blazar.db import models
from blazar.db.api.core import _reader
from blazar.db.api.core import _row
from blazar.db.api.core import transaction

__all__ = [
    'floatingip_create',
    'floatingip_get',
    'floatingip_list',
    'floatingip_destroy',
    'floatingip_holders',
    'floatingips_get',
    'floatingip_busy',
    'floatingip_calendar_rows',
    'fip_reservation_create',
    'fip_reservation_update',
    'fip_allocations_create',
    'fip_allocations_delete',
    'reservation_floatingip_ids',
]


def floatingip_create(context, values):
    """A registered address; a duplicate (subnet, address) is refused."""
    try:
        with transaction(context) as session:
            row = models.FloatingIP(**values)
            session.add(row)
            session.flush()
            return _row(row)
    except db_exc.DBDuplicateEntry as exc:
        raise exceptions.FloatingIPAlreadyExists(
            address=values['floating_ip_address'], subnet=values['subnet_id']) from exc


def floatingip_get(context, fip_id):
    with _reader(context) as session:
        row = session.get(models.FloatingIP, fip_id)
        return _row(row) if row is not None else None


def floatingips_get(context, fip_ids):
    """The addresses of ``fip_ids``, in that order (missing ones left out)."""
    fip_ids = list(fip_ids)
    if not fip_ids:
        return []
    with _reader(context) as session:
        rows = {r.id: _row(r) for r in session.scalars(
            sa.select(models.FloatingIP).where(models.FloatingIP.id.in_(fip_ids)))}
    return [rows[i] for i in fip_ids if i in rows]


def floatingip_list(context, network_id=None, reservable=None):
    with _reader(context) as session:
        query = sa.select(models.FloatingIP).order_by(models.FloatingIP.created_at,
                                                      models.FloatingIP.id)
        if network_id is not None:
            query = query.where(models.FloatingIP.floating_network_id == network_id)
        if reservable is not None:
            query = query.where(models.FloatingIP.reservable == reservable)
        return [_row(r) for r in session.scalars(query)]


def _allocations_with_window():
    alloc = models.FloatingIPAllocation
    return (sa.select(alloc.floatingip_id, alloc.reservation_id,
                      models.Reservation.lease_id, models.Lease.start_date,
                      models.Lease.end_date, models.Lease.project_id)
            .join(models.Reservation, models.Reservation.id == alloc.reservation_id)
            .join(models.Lease, models.Lease.id == models.Reservation.lease_id))


def floatingip_holders(context, fip_id, ends_after):
    """Reservations holding the address after ``ends_after``: [{...}]."""
    with _reader(context) as session:
        query = _allocations_with_window().where(
            models.FloatingIPAllocation.floatingip_id == fip_id,
            models.Lease.end_date > ends_after)
        return [dict(r._mapping) for r in session.execute(query)]


def floatingip_destroy(context, fip_id):
    """Delete an address and the allocation rows of ended leases that still
    name it (the caller has checked none is current or future)."""
    with transaction(context) as session:
        session.execute(sa.delete(models.FloatingIPAllocation).where(
            models.FloatingIPAllocation.floatingip_id == fip_id))
        deleted = session.execute(sa.delete(models.FloatingIP).where(
            models.FloatingIP.id == fip_id)).rowcount
        return bool(deleted)


def floatingip_busy(context, ends_after, network_id=None, exclude_reservation_id=None):
    """{address id: [(start, end), ...]}: the windows of every allocation
    ending after ``ends_after`` (one query)."""
    with _reader(context) as session:
        query = _allocations_with_window().where(models.Lease.end_date > ends_after)
        if network_id is not None:
            query = (query.join(models.FloatingIP, models.FloatingIP.id
                                == models.FloatingIPAllocation.floatingip_id)
                     .where(models.FloatingIP.floating_network_id == network_id))
        if exclude_reservation_id is not None:
            query = query.where(models.FloatingIPAllocation.reservation_id
                                != exclude_reservation_id)
        busy = {}
        for row in session.execute(query):
            busy.setdefault(row.floatingip_id, []).append((row.start_date, row.end_date))
        return busy


def floatingip_calendar_rows(context, ends_after, starts_before):
    """Allocations overlapping ``(ends_after, starts_before)`` with their
    address, network, reservation, lease and project."""
    with _reader(context) as session:
        query = (_allocations_with_window()
                 .add_columns(models.FloatingIP.floating_network_id,
                              models.FloatingIP.floating_ip_address)
                 .join(models.FloatingIP, models.FloatingIP.id
                       == models.FloatingIPAllocation.floatingip_id)
                 .where(models.Lease.end_date > ends_after,
                        models.Lease.start_date < starts_before)
                 .order_by(models.FloatingIP.floating_ip_address, models.Lease.start_date))
        return [dict(r._mapping) for r in session.execute(query)]


def fip_reservation_create(context, reservation_id, network_id, amount, required,
                           row_id):
    with transaction(context) as session:
        row = models.FloatingIPReservation(id=row_id, reservation_id=reservation_id,
                                           network_id=network_id, amount=amount)
        session.add(row)
        session.flush()
        session.add_all([models.RequiredFloatingIP(address=address,
                                                   floatingip_reservation_id=row.id)
                         for address in required])
        session.flush()
        return _row(row)


def fip_reservation_update(context, row_id, values, required=None):
    """Set values on a floating-IP reservation; ``required`` (a list)
    replaces its required addresses."""
    with transaction(context) as session:
        row = session.get(models.FloatingIPReservation, row_id)
        for key, value in values.items():
            setattr(row, key, value)
        if required is not None:
            session.execute(sa.delete(models.RequiredFloatingIP).where(
                models.RequiredFloatingIP.floatingip_reservation_id == row_id))
            session.add_all([models.RequiredFloatingIP(
                address=address, floatingip_reservation_id=row_id) for address in required])
        session.flush()


def fip_allocations_create(context, reservation_id, fip_ids):
    with transaction(context) as session:
        session.add_all([models.FloatingIPAllocation(reservation_id=reservation_id,
                                                     floatingip_id=fip_id)
                         for fip_id in fip_ids])
        session.flush()


def fip_allocations_delete(context, reservation_id, fip_ids=None):
    with transaction(context) as session:
        query = sa.delete(models.FloatingIPAllocation).where(
            models.FloatingIPAllocation.reservation_id == reservation_id)
        if fip_ids is not None:
            query = query.where(models.FloatingIPAllocation.floatingip_id.in_(
                list(fip_ids)))
        session.execute(query)


def reservation_floatingip_ids(context, reservation_id):
    """Addresses (ids) a reservation holds, in allocation order."""
    with _reader(context) as session:
        return list(session.scalars(
            sa.select(models.FloatingIPAllocation.floatingip_id)
            .where(models.FloatingIPAllocation.reservation_id == reservation_id)
            .order_by(models.FloatingIPAllocation.created_at,
                      models.FloatingIPAllocation.id)))
