"""The simulated Neutron: the subset floating-IP reservations use.

External networks (``router:external``) with IPv4/IPv6 subnets (CIDR,
gateway, allocation pools), and floating IPs on them with tags and a port
association. Errors are Neutron's types and codes (``NetworkNotFound``
404, ``FloatingIPNotFound`` 404, ``IpAddressAlreadyAllocated`` 409,
``BadRequest`` 400...). It shares the cloud's lock; methods return copies.

By default two external networks, ``public`` (172.24.4.0/24) and
``public2`` (198.51.100.0/24), each with one subnet whose gateway is
``.1`` and whose allocation pool is ``.2``-``.99``: addresses ``.100`` and
up are the ones an operator registers with Blazar. Their ids are fixed
(derived from the names), so documents and tests can name them.
"""
import copy
import ipaddress
import uuid

from blazar.simulator import errors

NAMESPACE = uuid.UUID('6f1c4b8e-1c61-4d55-9f0e-0c7d2a1b9e21')

DEFAULT_NETWORKS = (('public', '172.24.4.0/24'), ('public2', '198.51.100.0/24'))


def fixed_id(kind, name):
    return str(uuid.uuid5(NAMESPACE, '%s:%s' % (kind, name)))


class NeutronError(errors.SimError):
    """An error in Neutron's shape: {"NeutronError": {type, message, detail}}."""

    def __init__(self, code, kind, message):
        super().__init__(message)
        self.code = code
        self.kind = kind

    def body(self):
        return {'NeutronError': {'type': self.kind, 'message': self.message,
                                 'detail': ''}}


def not_found(kind, message):
    return NeutronError(404, kind, message)


def bad_request(message):
    return NeutronError(400, 'BadRequest', message)


class Neutron:
    """An in-memory Neutron. ``networks``: [(name, cidr)] of external
    networks to make (default ``DEFAULT_NETWORKS``)."""

    def __init__(self, lock, networks=DEFAULT_NETWORKS):
        self._lock = lock
        self.networks = {}
        self.subnets = {}
        self.floatingips = {}
        for name, cidr in networks:
            self.add_network(name, cidr)

    # --- set-up (tests and the default cloud) -------------------------------
    def add_network(self, name, cidr, external=True, pool=None, gateway=None,
                    network_id=None):
        """A network with one subnet; ``pool`` (first, last) defaults to the
        2nd..99th address, ``gateway`` to the first."""
        with self._lock:
            net = ipaddress.ip_network(cidr)
            network_id = network_id or fixed_id('network', name)
            subnet_id = fixed_id('subnet', name)
            if gateway is None:
                gateway = str(net.network_address + 1)
            if pool is None:
                first = net.network_address + 2
                last = net.network_address + min(99, net.num_addresses - 2)
                pool = (str(first), str(last))
            self.networks[network_id] = {
                'id': network_id, 'name': name, 'router:external': external,
                'status': 'ACTIVE', 'admin_state_up': True, 'shared': False,
                'project_id': 'admin', 'subnets': [subnet_id], 'tags': []}
            self.subnets[subnet_id] = {
                'id': subnet_id, 'name': name + '-subnet', 'network_id': network_id,
                'cidr': str(net), 'ip_version': net.version, 'gateway_ip': gateway,
                'allocation_pools': [{'start': pool[0], 'end': pool[1]}],
                'project_id': 'admin', 'enable_dhcp': False, 'tags': []}
            return copy.deepcopy(self.networks[network_id])

    def network_by_name(self, name):
        with self._lock:
            for net in self.networks.values():
                if net['name'] == name:
                    return copy.deepcopy(net)
        return None

    # --- networks and subnets ------------------------------------------------
    def get_network(self, network_id):
        with self._lock:
            net = self.networks.get(network_id)
            if net is None:
                raise not_found('NetworkNotFound', 'Network %s could not be found.'
                                % network_id)
            return copy.deepcopy(net)

    def list_networks(self, filters=None):
        with self._lock:
            return [copy.deepcopy(n) for n in self.networks.values()
                    if _matches(n, filters)]

    def get_subnet(self, subnet_id):
        with self._lock:
            subnet = self.subnets.get(subnet_id)
            if subnet is None:
                raise not_found('SubnetNotFound', 'Subnet %s could not be found.'
                                % subnet_id)
            return copy.deepcopy(subnet)

    def list_subnets(self, filters=None):
        with self._lock:
            return [copy.deepcopy(s) for s in self.subnets.values()
                    if _matches(s, filters)]

    # --- floating IPs ----------------------------------------------------------
    def _fip(self, fip_id):
        fip = self.floatingips.get(fip_id)
        if fip is None:
            raise not_found('FloatingIPNotFound', 'Floating IP %s could not be found'
                            % fip_id)
        return fip

    def _visible(self, caller, fip):
        return caller.is_admin or fip['project_id'] == caller.project_id

    def create_floatingip(self, caller, body):
        with self._lock:
            network_id = body.get('floating_network_id')
            if not network_id:
                raise bad_request("Invalid input for operation: 'floating_network_id' "
                                  'is required.')
            net = self.networks.get(network_id)
            if net is None:
                raise not_found('NetworkNotFound', 'Network %s could not be found.'
                                % network_id)
            if not net['router:external']:
                raise bad_request('Bad floatingip request: Network %s is not a valid '
                                  'external network.' % network_id)
            project_id = body.get('project_id') or body.get('tenant_id') \
                or caller.project_id
            if project_id != caller.project_id and not caller.is_admin:
                raise NeutronError(403, 'HTTPForbidden', 'Only admins may create a '
                                   'floating IP for another project.')
            subnets = [self.subnets[s] for s in net['subnets']]
            if body.get('subnet_id'):
                subnets = [s for s in subnets if s['id'] == body['subnet_id']]
                if not subnets:
                    raise bad_request('Bad floatingip request: subnet %s is not on '
                                      'network %s.' % (body['subnet_id'], network_id))
            address = body.get('floating_ip_address')
            if address is None:
                address, subnet = self._next_free(subnets)
            else:
                try:
                    ip = ipaddress.ip_address(address)
                except ValueError:
                    raise bad_request("Invalid input for floating_ip_address. Reason: "
                                      "'%s' is not a valid IP address." % address)
                subnet = next((s for s in subnets
                               if ip in ipaddress.ip_network(s['cidr'])), None)
                if subnet is None:
                    raise bad_request('Bad floatingip request: Invalid IP address %s '
                                      'for network %s.' % (address, network_id))
                if any(f['floating_ip_address'] == address
                       and f['floating_network_id'] == network_id
                       for f in self.floatingips.values()):
                    raise NeutronError(409, 'IpAddressAlreadyAllocated',
                                       'IP address %s already allocated in subnet %s'
                                       % (address, subnet['id']))
            fip_id = str(uuid.uuid4())
            fip = {'id': fip_id, 'floating_ip_address': address,
                   'floating_network_id': network_id, 'subnet_id': subnet['id'],
                   'project_id': project_id, 'tenant_id': project_id,
                   'port_id': None, 'fixed_ip_address': None, 'router_id': None,
                   'status': 'DOWN', 'description': body.get('description') or '',
                   'tags': [], 'revision_number': 0}
            self.floatingips[fip_id] = fip
            return copy.deepcopy(fip)

    def _next_free(self, subnets):
        used = {f['floating_ip_address'] for f in self.floatingips.values()}
        for subnet in subnets:
            for pool in subnet['allocation_pools']:
                ip = ipaddress.ip_address(pool['start'])
                while ip <= ipaddress.ip_address(pool['end']):
                    if str(ip) not in used:
                        return str(ip), subnet
                    ip += 1
        raise NeutronError(409, 'IpAddressGenerationFailure',
                           'No more IP addresses available on network.')

    def list_floatingips(self, caller, filters=None, tags=None):
        with self._lock:
            return [copy.deepcopy(f) for f in self.floatingips.values()
                    if self._visible(caller, f) and _matches(f, filters)
                    and set(tags or ()) <= set(f['tags'])]

    def get_floatingip(self, caller, fip_id):
        with self._lock:
            fip = self._fip(fip_id)
            if not self._visible(caller, fip):
                self._fip(None)
            return copy.deepcopy(fip)

    def update_floatingip(self, caller, fip_id, body):
        with self._lock:
            fip = self._fip(fip_id)
            if not self._visible(caller, fip):
                self._fip(None)
            if 'port_id' in body:
                fip['port_id'] = body['port_id']
                fip['fixed_ip_address'] = '10.0.0.%d' % (len(self.floatingips) % 250 + 2) \
                    if body['port_id'] else None
                fip['status'] = 'ACTIVE' if body['port_id'] else 'DOWN'
            if 'description' in body:
                fip['description'] = body['description']
            fip['revision_number'] += 1
            return copy.deepcopy(fip)

    def set_tags(self, caller, fip_id, tags):
        with self._lock:
            fip = self._fip(fip_id)
            if not self._visible(caller, fip):
                self._fip(None)
            fip['tags'] = sorted(set(tags))
            return list(fip['tags'])

    def delete_floatingip(self, caller, fip_id):
        with self._lock:
            fip = self._fip(fip_id)
            if not self._visible(caller, fip):
                self._fip(None)
            del self.floatingips[fip_id]

    # --- for tests -----------------------------------------------------------------
    def associate(self, fip_id, port_id):
        """Put a floating IP on a port, as a tenant would."""
        from blazar.simulator.state import ADMIN
        return self.update_floatingip(ADMIN, fip_id, {'port_id': port_id})

    def addresses(self, network_id=None):
        """{address: floating IP} of the floating IPs that exist."""
        with self._lock:
            return {f['floating_ip_address']: copy.deepcopy(f)
                    for f in self.floatingips.values()
                    if network_id is None or f['floating_network_id'] == network_id}


def _matches(obj, filters):
    """Neutron's list filters: each key's value among those given."""
    for key, values in (filters or {}).items():
        if str(obj.get(key)).lower() not in {str(v).lower() for v in values}:
            return False
    return True
