"""The simulated cloud: one object, one lock, Nova's rules.

``Cloud`` is what the HTTP front end (``app``) drives and what tests poke
directly (``fail_host``, ``recover_host``...).  Every public method takes
the lock, so concurrent HTTP requests see a consistent cloud.  Methods
return plain dicts (copies), never live records, and raise
``blazar.simulator.errors`` exceptions worded like Nova's.

Servers are built synchronously: a boot returns once the server is ACTIVE
or, when no host fits, ERROR with Nova's NoValidHost fault.  Deletion is
immediate unless ``delete_delay`` asks for Nova's asynchronous feel.

``cloud.placement`` is the cloud's Placement (``placement_state``), sharing
the lock: each hypervisor is a root resource provider (its uuid and
hostname) with VCPU / MEMORY_MB / DISK_GB inventory sized like the host,
a boot claims its allocation there (consumer = server id) and a delete or
shelve-offload gives it back, so hypervisor ``*_used`` figures are the
root provider's Placement usages.
"""
import copy
import dataclasses
import itertools
import math
import threading
import time

from blazar.simulator import errors
from blazar.simulator import faults
from blazar.simulator import model
from blazar.simulator import neutron_state
from blazar.simulator import placement_state
from blazar.simulator import scheduler as sched
from blazar.simulator.state_compute import ComputeMixin
from blazar.simulator.state_flavors import FlavorsMixin
from blazar.simulator.state_servers import ServersMixin

NO_VALID_HOST = sched.NO_VALID_HOST


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who sends a request (from ``X-Auth-Token: <user>:<project>``)."""
    user_id: str
    project_id: str
    is_admin: bool = False


ADMIN = Caller('admin', 'admin', True)


def _host_spec(item, index, defaults):
    """Normalise one entry of ``hosts=[...]`` (a name or a dict)."""
    spec = dict(defaults)
    if isinstance(item, str):
        spec['hypervisor_hostname'] = item
    else:
        spec.update(item)
    spec.setdefault('hypervisor_hostname',
                    defaults['name_pattern'] % (index + 1))
    spec.setdefault('service_host', spec['hypervisor_hostname'])
    spec.pop('name_pattern')
    return spec


class Cloud(ComputeMixin, FlavorsMixin, ServersMixin):
    """An in-memory compute cloud.

    :param hosts: number of hypervisors, or a list of hostnames / dicts
        (keys ``hypervisor_hostname``, ``service_host``, ``vcpus``,
        ``memory_mb``, ``local_gb``, ``cpu_info``, ``hypervisor_type``,
        ``hypervisor_version``).
    :param availability_zone: Nova's default zone, that of hosts in no
        aggregate with a zone.
    :param pools: ``scheduler.Pools`` (blazar-nova settings); by default
        read from CONF at each boot so tests may override options.
    :param delete_delay: seconds a deleted server stays listed (``deleting``).
    :param cpu_allocation_ratio: (and ``ram_``, ``disk_``) the Placement
        allocation ratios of each host's inventory.  They default to 1.0
        here (capacity = hypervisor size, which is what tests reason on);
        ``from_config`` uses ``[simulator]``, whose defaults are Nova's.
    :param reserved_host_cpus: (and ``reserved_host_memory_mb``,
        ``reserved_host_disk_mb``) the ``reserved`` part of each host's
        inventory, as Nova's options of the same names.
    Per-host dict entries of ``hosts`` may override any of these six and
    add ``traits`` (names put on the host's resource provider).
    """

    def __init__(self, hosts=3, vcpus=16, memory_mb=65536, local_gb=1000,
                 availability_zone='nova', host_name_pattern='compute-%d',
                 scheduler=None, pools=None, delete_delay=0.0,
                 cpu_allocation_ratio=1.0, ram_allocation_ratio=1.0,
                 disk_allocation_ratio=1.0, reserved_host_cpus=0,
                 reserved_host_memory_mb=0, reserved_host_disk_mb=0):
        self._lock = threading.RLock()
        self.placement = placement_state.Placement(self._lock)
        # Neutron's networks, subnets and floating IPs (neutron_state).
        self.neutron = neutron_state.Neutron(self._lock)
        self.host_defaults = {
            'cpu_allocation_ratio': cpu_allocation_ratio,
            'ram_allocation_ratio': ram_allocation_ratio,
            'disk_allocation_ratio': disk_allocation_ratio,
            'reserved_host_cpus': reserved_host_cpus,
            'reserved_host_memory_mb': reserved_host_memory_mb,
            'reserved_host_disk_mb': reserved_host_disk_mb}
        self.default_zone = availability_zone
        self.scheduler = scheduler or sched.Scheduler()
        self._pools = pools
        self.delete_delay = delete_delay
        self._ids = itertools.count(1)   # Nova's integer ids, per cloud
        self.hypervisors = []           # ordered as created
        self.services = {}              # host -> Service
        self.aggregates = {}            # int id -> Aggregate
        self.flavors = {}               # flavor id -> Flavor
        self.server_groups = {}         # id -> ServerGroup
        self.servers = {}               # id -> Server (insertion = age)
        self.images = {}                # id -> Image
        self.faults = faults.Faults()   # injected faults, request log
        defaults = {'vcpus': vcpus, 'memory_mb': memory_mb,
                    'local_gb': local_gb, 'name_pattern': host_name_pattern}
        items = range(hosts) if isinstance(hosts, int) else hosts
        for index, item in enumerate(items):
            if isinstance(hosts, int):
                item = {}
            self.add_hypervisor(**_host_spec(item, index, defaults))

    @classmethod
    def from_config(cls, conf=None, **kwargs):
        """A cloud sized by the ``[simulator]`` options."""
        if conf is None:
            from blazar.conf import CONF as conf
        opts = conf.simulator
        kwargs.setdefault('delete_delay', opts.server_delete_delay)
        for name in ('cpu_allocation_ratio', 'ram_allocation_ratio',
                     'disk_allocation_ratio', 'reserved_host_cpus',
                     'reserved_host_memory_mb', 'reserved_host_disk_mb'):
            kwargs.setdefault(name, opts[name])
        return cls(hosts=opts.hosts, vcpus=opts.vcpus,
                   memory_mb=opts.memory_mb, local_gb=opts.local_gb,
                   availability_zone=opts.availability_zone,
                   host_name_pattern=opts.host_name_pattern, **kwargs)

    # --- fault injection (applied by the HTTP front end) -----------------
    def inject_fault(self, method, path_pattern, status=500, times=1,
                     message=None, action=None, delay=0.0, skip=0, probability=1.0):
        """Make the next ``times`` matching HTTP requests fail.

        A request matches when its method is ``method`` (or ``method`` is
        ``'*'``), ``re.search(path_pattern, path)`` succeeds on its path
        after ``/v2.1`` (``/os-aggregates/12/action``; no query string) or,
        for Placement and Neutron, its whole path (``/placement/resource_providers/
        <uuid>/inventories``: Placement-shaped errors, code
        ``placement.concurrent_update`` for a 409; ``/networking/v2.0/floatingips``:
        Neutron-shaped errors)
        and, if ``action`` is given, it is ``POST .../action`` with that
        action (``add_host`` but not ``remove_host``).  It is answered
        ``status`` with Nova's error body (``{"computeFault": {"code":
        500, "message": ...}}``, ``conflict`` for 409...), ``message``
        defaulting to Nova's wording, and the cloud is left untouched.

        ``delay`` seconds are waited first (``clear_faults`` cuts the wait
        short); with ``status=None`` the request is then served normally.
        ``skip`` lets that many matching requests through first (to fail,
        say, the second ``add_host`` of an operation):
        a slow Nova.  ``times=None`` keeps the rule until cleared.
        ``probability`` makes each matching request fail with that chance
        only (a flaky Nova, for drills).  The
        oldest armed rule wins when several match.  Returns the rule
        (``faults.Fault``: ``hits``, ``remaining``).
        """
        return self.faults.inject(method, path_pattern, status=status,
                                  times=times, message=message,
                                  action=action, delay=delay, skip=skip,
                                  probability=probability)

    def clear_faults(self):
        """Disarm every injected fault (the request log is kept)."""
        self.faults.clear()

    @property
    def requests(self):
        """Requests received, oldest first: ``(method, path, action)``.

        A snapshot (list) of the last ``faults.LOG_SIZE`` requests; see
        ``faults`` for the fields.
        """
        return self.faults.requests()

    def clear_requests(self):
        """Empty the request log."""
        self.faults.clear_requests()

    # --- plumbing --------------------------------------------------------
    @property
    def pools(self):
        if self._pools is not None:
            return self._pools
        from blazar.conf import CONF
        return sched.Pools(
            freepool_name=CONF.nova.aggregate_freepool_name,
            az_prefix=CONF.simulator.blazar_az_prefix,
            owner_key=CONF.nova.blazar_owner,
            allow_preemptibles=CONF.simulator.allow_preemptibles)

    def _reap(self):
        """Forget servers whose slow deletion is over."""
        moment = time.monotonic()
        for server in list(self.servers.values()):
            if server.delete_at is not None and server.delete_at <= moment:
                self._forget_server(server)

    def _forget_server(self, server):
        self._release(server)
        self.servers.pop(server.id, None)
        group = self.server_groups.get(server.group_id)
        if group and server.id in group.members:
            group.members.remove(server.id)

    @staticmethod
    def _copy(record, **extra):
        data = copy.deepcopy(dataclasses.asdict(record))
        data.update(extra)
        return data

    def add_hypervisor(self, hypervisor_hostname, service_host=None,
                       vcpus=16, memory_mb=65536, local_gb=1000,
                       cpu_info=None, hypervisor_type='fake',
                       hypervisor_version=1000, traits=(), **placement):
        """Add a compute node (and its nova-compute service if new).

        Its root resource provider is created as Nova's resource tracker
        would; ``placement`` may override the cloud's ``host_defaults``
        (allocation ratios, reserved amounts) for this host.
        """
        unknown = set(placement) - set(self.host_defaults)
        if unknown:
            raise TypeError('unexpected arguments %s' % sorted(unknown))
        sizing = dict(self.host_defaults, **placement)
        with self._lock:
            service_host = service_host or hypervisor_hostname
            cpu_info = cpu_info if cpu_info is not None else {
                'arch': 'x86_64', 'model': 'Nehalem', 'vendor': 'Intel',
                'features': ['pge', 'clflush'],
                'topology': {'cores': 1, 'threads': 1, 'sockets': vcpus}}
            hyp = model.Hypervisor(
                hypervisor_hostname=hypervisor_hostname,
                service_host=service_host, vcpus=vcpus, memory_mb=memory_mb,
                local_gb=local_gb, cpu_info=cpu_info,
                hypervisor_type=hypervisor_type,
                hypervisor_version=hypervisor_version,
                int_id=len(self.hypervisors) + 1)
            self._register_provider(hyp, sizing, traits)
            self.hypervisors.append(hyp)
            if service_host not in self.services:
                self.services[service_host] = model.Service(
                    host=service_host, int_id=len(self.services) + 1)
            return self._copy(hyp)

    def _register_provider(self, hyp, sizing, traits):
        """The compute node's root provider, inventory and traits."""
        totals = {
            'VCPU': (hyp.vcpus, sizing['reserved_host_cpus'],
                     sizing['cpu_allocation_ratio']),
            'MEMORY_MB': (hyp.memory_mb, sizing['reserved_host_memory_mb'],
                          sizing['ram_allocation_ratio']),
            'DISK_GB': (hyp.local_gb,
                        math.ceil(sizing['reserved_host_disk_mb'] / 1024),
                        sizing['disk_allocation_ratio'])}
        inventories = {
            rc: {'total': total, 'reserved': min(reserved, total),
                 'min_unit': 1, 'max_unit': total, 'step_size': 1,
                 'allocation_ratio': float(ratio)}
            for rc, (total, reserved, ratio) in totals.items() if total > 0}
        placement = self.placement
        name = hyp.hypervisor_hostname
        if placement.list_providers(name=name):
            name = hyp.id    # the same hostname in two cells: keep both
        placement.create_provider(name, rp_uuid=hyp.id)
        placement.set_inventories(hyp.id, 0, inventories)
        names = ['COMPUTE_NODE'] + [t for t in traits if t != 'COMPUTE_NODE']
        for name in names:
            if not placement.trait_exists(name):
                placement.ensure_trait(name)
        generation = placement.get_provider(hyp.id)['generation']
        placement.set_provider_traits(hyp.id, generation, names)

    def _claim(self, server, host_state):
        """Record the allocation Placement offered on the chosen host."""
        self.placement.set_allocations(
            server.id, host_state.allocation or {},
            project_id=server.project_id, user_id=server.user_id,
            consumer_type='INSTANCE')

    def _release(self, server):
        self.placement.delete_allocations(server.id, missing_ok=True)

    def _service(self, host):
        service = self.services.get(host)
        if service is None:
            raise errors.NotFound('Compute host %s could not be found.'
                                  % host)
        return service

    def host_zones(self, host):
        """Zones of a compute host: its aggregates' zones, or the default."""
        with self._lock:
            zones = sorted({a.availability_zone
                            for a in self.aggregates.values()
                            if a.availability_zone and host in a.hosts})
            return zones or [self.default_zone]

    def _usage(self, hyp):
        """What the node's root provider has allocated, and its servers."""
        count = sum(1 for s in self.servers.values()
                    if s.consumes and s.node == hyp.hypervisor_hostname)
        usage = {}
        if hyp.id in self.placement.providers:
            usage = self.placement.usages(hyp.id)[1]
        return {'vcpus': usage.get('VCPU', 0) + usage.get('PCPU', 0),
                'ram': usage.get('MEMORY_MB', 0),
                'disk': usage.get('DISK_GB', 0), 'count': count}

    def _host_states(self, spec):
        """Scheduler snapshots of every compute node for ``spec``.

        Each carries the allocation Placement offers for the request in
        the node's provider tree (None when it has no room).
        """
        wanted = sched.placement_request(spec.flavor)
        states = []
        for hyp in self.hypervisors:
            service = self.services[hyp.service_host]
            used = self._usage(hyp)
            aggregates = [{'name': a.name,
                           'availability_zone': a.availability_zone,
                           'metadata': dict(a.metadata)}
                          for a in self.aggregates.values()
                          if hyp.service_host in a.hosts]
            states.append(sched.HostState(
                host=hyp.service_host, node=hyp.hypervisor_hostname,
                up=service.up, enabled=service.enabled,
                zones=self.host_zones(hyp.service_host),
                aggregates=aggregates,
                free_vcpus=hyp.vcpus - used['vcpus'],
                free_ram_mb=hyp.memory_mb - used['ram'],
                free_disk_gb=hyp.local_gb - used['disk'],
                placement=True,
                allocation=self.placement.first_candidate(hyp.id, *wanted)))
        return states

    def available_zones(self):
        """Zones having at least one enabled compute service."""
        with self._lock:
            zones = set()
            for host, service in self.services.items():
                if service.enabled:
                    zones.update(self.host_zones(host))
            return zones
