"""What a floating-IP reservation is in Neutron, as idempotent converger steps.

Nothing exists before the start (phase ``reserved``). At the start
(``active``) each reserved address is made a floating IP in the lease
owner's project, with that exact address on its subnet, described
``blazar reservation:<id>`` (set in the same call that makes it, so a
floating IP made by a manager that died before tagging it is still known as
ours) and tagged ``[neutron] floatingip_tag`` (``blazar``) and
``reservation:<id>``. At the end (``absent``) each is taken off its port
and deleted. Only floating IPs carrying this reservation's marks are ever
touched: an address held in Neutron by anything else is a failure (retried,
with the reason shown on the lease), never deleted.

``observed['fips']`` records ``{address: Neutron floating IP id}`` of those
made.
"""
import logging

from oslo_utils import uuidutils

from blazar import exceptions
from blazar.clients import neutron
from blazar.conf import CONF
from blazar.plugins.steps import Marked
from blazar.plugins.steps import Step

LOG = logging.getLogger(__name__)
TAG_PREFIX = 'reservation:'
DESCRIPTION_PREFIX = 'blazar reservation:'


def spec(lease, reservation_id, network_id, addresses):
    """The intent of a floating-IP reservation: ``addresses`` is a list of
    {address, subnet_id} of the registered addresses it holds."""
    return {'lease_id': lease['id'], 'reservation_id': reservation_id,
            'project_id': lease['project_id'], 'network_id': network_id,
            'addresses': sorted(({'address': a['address'], 'subnet_id': a['subnet_id']}
                                 for a in addresses), key=lambda a: a['address'])}


def tags(reservation_id):
    return [CONF.neutron.floatingip_tag, TAG_PREFIX + reservation_id]


def reservation_of(fip):
    """The reservation id a floating IP carries the marks of, or None."""
    for tag in fip.get('tags') or ():
        if tag.startswith(TAG_PREFIX) and uuidutils.is_uuid_like(tag[len(TAG_PREFIX):]):
            if CONF.neutron.floatingip_tag in fip['tags']:
                return tag[len(TAG_PREFIX):]
    description = fip.get('description') or ''
    if description.startswith(DESCRIPTION_PREFIX):
        rid = description[len(DESCRIPTION_PREFIX):]
        if uuidutils.is_uuid_like(rid):
            return rid
    return None


def _fips(observed):
    return dict(observed.get('fips') or {})


def _find(client, spec, address):
    """(ours, others): floating IPs of the address on the network."""
    found = client.list_floatingips(address=address, network_id=spec['network_id'])
    ours = [f for f in found if reservation_of(f) == spec['reservation_id']]
    return ours, [f for f in found if f not in ours]


def _ensure(spec, item):
    address = item['address']

    def run(observed):
        client = neutron.get_client()
        ours, others = _find(client, spec, address)
        if ours:
            fip = ours[0]
        else:
            if others:
                holder = reservation_of(others[0])
                raise exceptions.NeutronConflict(
                    reason='floating IP %s of network %s is held in Neutron by %s '
                           '(floating IP %s): it cannot be made for reservation %s '
                           'until that one lets it go'
                           % (address, spec['network_id'],
                              'reservation %s' % holder if holder else
                              'project %s, not by Blazar' % others[0]['project_id'],
                              others[0]['id'], spec['reservation_id']))
            fip = client.create_floatingip(
                spec['network_id'], item['subnet_id'], address, spec['project_id'],
                description=DESCRIPTION_PREFIX + spec['reservation_id'])
            LOG.info('Made floating IP %s (%s) for reservation %s in project %s',
                     address, fip['id'], spec['reservation_id'], spec['project_id'])
        fips = _fips(observed)
        fips[address] = fip['id']
        observed['fips'] = fips
        wanted = tags(spec['reservation_id'])
        if not set(wanted) <= set(fip.get('tags') or ()):
            client.set_tags(fip['id'], sorted(set(fip.get('tags') or ()) | set(wanted)))
    return Step('fip:' + address, 'make floating IP %s in project %s'
                % (address, spec['project_id']), run)


def remove(client, fip):
    """Take a floating IP off its port and delete it (both idempotent)."""
    if fip.get('port_id'):
        client.disassociate(fip['id'])
    client.delete_floatingip(fip['id'])


def _release(spec, address):
    def run(observed):
        client = neutron.get_client()
        ours, _others = _find(client, spec, address)
        for fip in ours:
            remove(client, fip)
            LOG.info('Deleted floating IP %s (%s) of reservation %s', address, fip['id'],
                     spec['reservation_id'])
        fips = _fips(observed)
        fips.pop(address, None)
        observed['fips'] = fips
    return Step('release:' + address, 'disassociate and delete floating IP %s' % address,
                run)


def plan(phase, spec, observed):
    wanted = [item['address'] for item in spec['addresses']]
    made = list(_fips(observed))
    if phase == 'reserved':
        return []
    if phase == 'active':
        return ([_ensure(spec, item) for item in spec['addresses']]
                + [_release(spec, a) for a in made if a not in wanted])
    # absent: what was made, and what may have been made before a crash.
    return [_release(spec, a) for a in sorted(set(made) | set(wanted))]


def marked_objects():
    """Floating IPs carrying the marks of a reservation, for orphan
    collection (none looked for while ``[neutron]`` has no credentials: a
    deployment that reserves no floating IPs need not configure it)."""
    if not CONF.neutron.auth_type:
        return []
    client = neutron.get_client()
    found = []
    for fip in client.list_floatingips():
        rid = reservation_of(fip)
        if rid:
            found.append(Marked('floatingip', fip['id'], rid,
                                lambda fip=fip: remove(client, fip)))
    return found
