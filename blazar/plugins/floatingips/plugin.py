"""virtual:floatingip — addresses of external Neutron networks reserved for
a time window.

An administrator registers addresses (``/v1/floatingips``): each lies in a
subnet of an external network, outside the subnet's allocation pools and
gateway, so Neutron never hands it out by itself. A reservation asks for
``amount`` addresses of ``network_id``, optionally naming some
(``required_floatingips``); they are chosen with the hosts' calendar and
free-ness predicate (blazar/allocation/floatingips.py). At the start the
converger makes them floating IPs in the lease owner's project, and at the
end deletes them (blazar/plugins/floatingips/cloud.py).
"""
import datetime
import ipaddress
import logging

from oslo_config import cfg
from oslo_utils import timeutils

from blazar import exceptions
from blazar.allocation import floatingips as fip_allocation
from blazar.clients import neutron
from blazar.db import api as db_api
from blazar.plugins import base
from blazar.plugins.floatingips import cloud

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

RESOURCE_TYPE = 'virtual:floatingip'
PARAMS = ('network_id', 'amount', 'required_floatingips')


def _margin():
    return datetime.timedelta(minutes=CONF.cleaning_time)


def _address(value, param='floating_ip_address'):
    if not isinstance(value, str):
        raise exceptions.InvalidIPFormat(ip=value)
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise exceptions.InvalidIPFormat(ip=value)


def check_params(values):
    """Normalised floating-IP reservation parameters, or a 400 naming the field."""
    unknown = set(values) - set(PARAMS) - {'resource_type', 'id'}
    if unknown:
        raise exceptions.InvalidInput(
            reason='Unknown parameter(s) for virtual:floatingip: %s (allowed: %s)'
                   % (', '.join(sorted(unknown)), ', '.join(PARAMS)))
    network_id = values.get('network_id')
    if network_id is None or network_id == '':
        raise exceptions.MissingParameter(param='network_id')
    if not isinstance(network_id, str) or len(network_id) > 255:
        raise exceptions.MalformedParameter(param='network_id',
                                            reason='must be a Neutron network id')
    amount = values.get('amount', 1)
    if isinstance(amount, str) and amount.strip().isdigit():
        amount = int(amount)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise exceptions.MalformedParameter(param='amount',
                                            reason='%r is not a whole number >= 1'
                                                   % (amount,))
    required = values.get('required_floatingips') or []
    if isinstance(required, str):
        required = [required]
    if not isinstance(required, list):
        raise exceptions.MalformedParameter(param='required_floatingips',
                                            reason='must be a list of IP addresses')
    required = list(dict.fromkeys(_address(a) for a in required))
    if len(required) > amount:
        raise exceptions.InvalidInput(
            reason='%d required floating IP(s) for an amount of %d: '
                   'required_floatingips cannot list more addresses than amount'
                   % (len(required), amount))
    return {'network_id': network_id, 'amount': amount,
            'required_floatingips': required}


def _stored_params(row):
    return {'network_id': row['network_id'], 'amount': row['amount'],
            'required_floatingips': list(row.get('required_floatingips') or [])}


def select(context, window, params, reservation_id=None, current=(), allow_drop=True):
    """Ids of the addresses a reservation gets for ``window``: two queries
    (the network's reservable addresses, their calendar), then the pure
    choice."""
    candidates = [fip_allocation.Address(f['id'], f['floating_ip_address'])
                  for f in db_api.floatingip_list(context, network_id=params['network_id'],
                                                  reservable=True)]
    now = timeutils.utcnow()
    busy = db_api.floatingip_busy(context, now - _margin(),
                                  network_id=params['network_id'],
                                  exclude_reservation_id=reservation_id)
    return fip_allocation.select_floatingips(
        candidates, busy, window, params['amount'],
        required=params['required_floatingips'], margin=_margin(), current=current,
        allow_drop=allow_drop, network_id=params['network_id'])


# --- registered addresses (/v1/floatingips) ---------------------------------------

def _in_pool(ip, pool):
    return ipaddress.ip_address(pool['start']) <= ip <= ipaddress.ip_address(pool['end'])


def create_floatingip(context, values):
    network_id = values.get('floating_network_id')
    if not network_id:
        raise exceptions.MissingParameter(param='floating_network_id')
    if 'floating_ip_address' not in values:
        raise exceptions.MissingParameter(param='floating_ip_address')
    address = _address(values['floating_ip_address'])
    ip = ipaddress.ip_address(address)
    client = neutron.get_client()
    network = client.get_network(network_id)
    if network is None:
        raise exceptions.FloatingIPNetworkNotFound(
            network=network_id, reason='Neutron has no such network')
    if not network.get('router:external'):
        raise exceptions.FloatingIPNetworkNotFound(
            network=network_id, reason='it is not an external network '
                                       '(router:external is false)')
    subnets = client.list_subnets(network_id)
    subnet = next((s for s in subnets
                   if s['ip_version'] == ip.version
                   and ip in ipaddress.ip_network(s['cidr'], strict=False)), None)
    if subnet is None:
        raise exceptions.FloatingIPSubnetNotFound(
            address=address, network=network_id,
            subnets=', '.join('%s %s' % (s['id'], s['cidr']) for s in subnets) or 'none')
    if subnet.get('gateway_ip') and ip == ipaddress.ip_address(subnet['gateway_ip']):
        raise exceptions.InvalidInput(
            reason='Floating IP %s is the gateway of subnet %s: it cannot be reserved'
                   % (address, subnet['id']))
    for pool in subnet.get('allocation_pools') or ():
        if _in_pool(ip, pool):
            raise exceptions.FloatingIPInAllocationPool(
                address=address, subnet=subnet['id'],
                pool='%s-%s' % (pool['start'], pool['end']))
    return db_api.floatingip_create(context, {
        'floating_network_id': network_id, 'subnet_id': subnet['id'],
        'floating_ip_address': address, 'reservable': True})


def get_floatingip(context, fip_id):
    fip = db_api.floatingip_get(context, fip_id)
    if fip is None:
        raise exceptions.FloatingIPNotFound(id=fip_id)
    return fip


def list_floatingips(context):
    return db_api.floatingip_list(context)


def delete_floatingip(context, fip_id):
    """Refused while a current or future reservation holds the address;
    ended leases' hold is history and goes with it."""
    with db_api.transaction(context):
        db_api.allocation_lock(context)
        get_floatingip(context, fip_id)
        holders = db_api.floatingip_holders(context, fip_id, timeutils.utcnow())
        if holders:
            raise exceptions.CantDeleteFloatingIP(
                id=fip_id, reason='it is reserved by lease(s) %s (until %s)'
                % (', '.join(sorted({h['lease_id'] for h in holders})),
                   max(h['end_date'] for h in holders)))
        db_api.floatingip_destroy(context, fip_id)


class FloatingIpPlugin(base.ResourcePlugin):
    resource_type = RESOURCE_TYPE

    get_floatingip = staticmethod(get_floatingip)
    list_floatingips = staticmethod(list_floatingips)
    create_floatingip = staticmethod(create_floatingip)
    delete_floatingip = staticmethod(delete_floatingip)

    def validate_reservation(self, values):
        return check_params(values)

    def reserve(self, context, lease, reservation_id, values, row_id):
        window = (lease['start_date'], lease['end_date'])
        fip_ids = select(context, window, values)
        db_api.fip_reservation_create(context, reservation_id, values['network_id'],
                                      values['amount'], values['required_floatingips'],
                                      row_id)
        db_api.fip_allocations_create(context, reservation_id, fip_ids)
        LOG.info('Reservation %s holds floating IPs %s from %s to %s', reservation_id,
                 fip_ids, *window)

    def update_reservation(self, context, lease, reservation, changes):
        row = reservation['floatingip_reservation']
        stored = _stored_params(row)
        params = check_params(dict(stored, **changes))
        if params['network_id'] != stored['network_id']:
            raise exceptions.CantUpdateFloatingIPReservation(
                reason='network_id cannot change (it is %s)' % stored['network_id'])
        if params['required_floatingips'] not in ([], stored['required_floatingips']):
            raise exceptions.CantUpdateFloatingIPReservation(
                reason='required_floatingips can only be emptied ([]), not changed')
        active = reservation['status'] == 'active'
        window = (lease['start_date'], lease['end_date'])
        current = db_api.reservation_floatingip_ids(context, reservation['id'])
        held = db_api.lease_get(context, reservation['lease_id'])
        if params == stored and len(current) == params['amount'] and held and \
                held['start_date'] <= window[0] and window[1] <= held['end_date']:
            # Addresses free for a window are free for any part of it (the
            # lease row, updated after this, still has the old dates).
            return
        chosen = select(context, window, params, reservation_id=reservation['id'],
                        current=current, allow_drop=not active)
        added = [i for i in chosen if i not in current]
        dropped = [i for i in current if i not in chosen]
        if dropped:
            db_api.fip_allocations_delete(context, reservation['id'], dropped)
        if added:
            db_api.fip_allocations_create(context, reservation['id'], added)
        db_api.fip_reservation_update(
            context, row['id'], {'amount': params['amount']},
            required=(params['required_floatingips']
                      if params['required_floatingips'] != stored['required_floatingips']
                      else None))
        if added or dropped:
            LOG.info('Reservation %s: floating IPs %s added, %s dropped', reservation['id'],
                     added, dropped)

    # --- the cloud (blazar/plugins/floatingips/cloud.py) ----------------------------
    def intent_spec(self, context, lease, reservation, phase):
        row = reservation.get('floatingip_reservation') or {}
        fips = db_api.floatingips_get(
            context, db_api.reservation_floatingip_ids(context, reservation['id']))
        return cloud.spec(lease, reservation['id'], row.get('network_id'),
                          [{'address': f['floating_ip_address'],
                            'subnet_id': f['subnet_id']} for f in fips])

    def plan(self, phase, spec, observed):
        return cloud.plan(phase, spec, observed)

    def marked_objects(self):
        return cloud.marked_objects()

    def reservation_fields(self, reservation):
        row = reservation.get('floatingip_reservation')
        if not row:
            return {}
        return _stored_params(row)
