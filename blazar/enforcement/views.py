"""The lease as enforcement filters see it.

A filter gets the lease's fields (``id``, ``name``, ``user_id``,
``project_id``, ``start_date``, ``end_date`` as naive UTC datetimes,
``status``...) and its reservations, each with its plugin's fields and what
it holds:

* ``allocations``: the hosts, ``{"id", "hypervisor_hostname",
  "service_name", "vcpus", "memory_mb", "local_gb"}`` (one entry per
  allocation; for host reservations one per host);
  for floating-IP reservations the addresses, ``{"id",
  "floating_ip_address", "floating_network_id", "subnet_id"}``;
* ``usage``: ``{"hosts", "vcpus", "memory_mb", "floatingips"}`` totals (a
  reserved host counts its whole size; instance reservations count
  ``amount`` × their instance size; floating-IP reservations their
  addresses).

The lease-level ``usage`` is the sum over its reservations.
"""
from blazar.db import api as db_api
from blazar.enforcement import usage as usage_math

HOST_FIELDS = ('hypervisor_hostname', 'service_name', 'vcpus', 'memory_mb', 'local_gb')


def lease(context, lease_view):
    """Add ``allocations`` and ``usage`` to a lease view (as the manager
    shows it), reading the allocations with one query; drops the events."""
    by_reservation = {}
    for row in db_api.lease_allocated_hosts(context, lease_view['id']):
        entry = {'id': str(row['compute_host_id'])}  # as the API shows hosts
        entry.update({key: row[key] for key in HOST_FIELDS})
        by_reservation.setdefault(row['reservation_id'], []).append(entry)
    has_fips = any(r.get('resource_type') == usage_math.FLOATINGIP_TYPE
                   for r in lease_view.get('reservations') or [])
    for row in (db_api.lease_allocated_floatingips(context, lease_view['id'])
                if has_fips else ()):
        by_reservation.setdefault(row['reservation_id'], []).append({
            key: row[key] for key in ('id', 'floating_ip_address', 'floating_network_id',
                                      'subnet_id')})
    result = {key: value for key, value in lease_view.items()
              if key not in ('events', 'reservations')}
    result['reservations'] = []
    for reservation in lease_view.get('reservations') or []:
        reservation = dict(reservation,
                           allocations=by_reservation.get(reservation['id'], []))
        reservation['usage'] = usage_math.reservation_usage(reservation)
        result['reservations'].append(reservation)
    result['usage'] = usage_math.lease_usage(result)
    return result
