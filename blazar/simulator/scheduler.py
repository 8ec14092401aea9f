"""Host selection for server boots, after Nova's filter scheduler.

What matters to Blazar is *where* a server may land, so the filters are the
ones that decide that in a Blazar-enabled Nova: the blazar-nova
``BlazarFilter`` (reservation hint, reserved flavors, preemptibles, plain
servers kept out of Blazar pools), ``AggregateInstanceExtraSpecsFilter``,
availability zones, compute health, server-group (anti-)affinity and free
capacity.

Placement comes first, as in Nova: ``placement_request`` turns the flavor
into the resources (``VCPU``, ``MEMORY_MB``, ``DISK_GB``, overridden or
extended by ``resources:<CLASS>=<n>`` extra specs) and traits
(``trait:<NAME>=required|forbidden``) it needs; the cloud asks its
Placement for an allocation in each host's provider tree and puts it in the
host's snapshot (``HostState.allocation``, None when the tree cannot serve
the request).  A host without one fails ``capacity_filter`` and even a
forced host; the chosen host's allocation is then claimed for the server.
Snapshots built without Placement (``placement=False``) fall back to the
free vCPU/RAM/disk figures.  ``Scheduler(candidates=...)`` remains a seam:
a callable ``(spec, hosts) -> hosts`` narrowing the hosts first.
"""
import dataclasses

from blazar.allocation import flavors

AGGREGATE_SPEC_SCOPE = 'aggregate_instance_extra_specs'
NO_VALID_HOST = 'No valid host was found.'
LEGACY_POOL_PREFIX = 'blazar:'


@dataclasses.dataclass
class Pools:
    """blazar-nova settings: which aggregates are Blazar pools."""
    freepool_name: str = 'freepool'
    az_prefix: str = 'blazar_'
    owner_key: str = 'blazar:owner'
    allow_preemptibles: bool = True

    def is_pool(self, aggregate):
        zone = aggregate.get('availability_zone') or ''
        return (aggregate['name'] == self.freepool_name
                or (bool(self.az_prefix) and zone.startswith(self.az_prefix))
                or zone.startswith(LEGACY_POOL_PREFIX))


@dataclasses.dataclass
class RequestSpec:
    """What one boot asks for (the subset of Nova's RequestSpec we use)."""
    project_id: str
    flavor: dict           # vcpus, ram, disk, ephemeral, extra_specs
    hints: dict = dataclasses.field(default_factory=dict)
    availability_zone: str = None
    requested_host: str = None         # admin 'host' (2.74): filters apply
    requested_node: str = None
    forced_host: str = None            # admin 'az:host': filters skipped
    forced_node: str = None
    group_policy: str = None
    group_rules: dict = dataclasses.field(default_factory=dict)
    group_hosts: list = dataclasses.field(default_factory=list)

    @property
    def extra_specs(self):
        return self.flavor.get('extra_specs') or {}


@dataclasses.dataclass
class HostState:
    """A compute host as the scheduler sees it (a snapshot)."""
    host: str
    node: str
    up: bool
    enabled: bool
    zones: list
    aggregates: list       # dicts: name, availability_zone, metadata
    free_vcpus: int
    free_ram_mb: int
    free_disk_gb: int
    placement: bool = False   # whether ``allocation`` decides capacity
    allocation: dict = None   # {provider uuid: {class: amount}} or None

    def fits(self, flavor):
        if self.placement:
            return self.allocation is not None
        return (flavor['vcpus'] <= self.free_vcpus
                and flavor['ram'] <= self.free_ram_mb
                and flavor['disk'] + flavor.get('ephemeral', 0)
                <= self.free_disk_gb)

    def consume(self, flavor):
        """Take one instance off a snapshot built without Placement."""
        self.free_vcpus -= flavor['vcpus']
        self.free_ram_mb -= flavor['ram']
        self.free_disk_gb -= flavor['disk'] + flavor.get('ephemeral', 0)


# What a boot of a flavor asks Placement for: shared with the instance
# reservation plugin, which must size slots exactly as Nova will ask.
placement_request = flavors.placement_request


# --- filters: (host, spec, pools) -> bool --------------------------------
def compute_filter(host, spec, pools):
    return host.up and host.enabled


def availability_zone_filter(host, spec, pools):
    return not spec.availability_zone or spec.availability_zone in host.zones


def capacity_filter(host, spec, pools):
    return host.fits(spec.flavor)


def blazar_filter(host, spec, pools):
    """The four rules of blazar-nova's BlazarFilter, in its order."""
    host_pools = [a for a in host.aggregates if pools.is_pool(a)]
    wanted = spec.hints.get('reservation')
    if wanted:
        wanted = wanted if isinstance(wanted, list) else [wanted]
        return any(
            a['name'] in wanted
            and (spec.project_id in a['metadata']
                 or a['metadata'].get(pools.owner_key) == spec.project_id)
            for a in host_pools)
    if AGGREGATE_SPEC_SCOPE + ':reservation' in spec.extra_specs:
        return True   # the extra-specs filter (and Placement) confine it
    preemptible = str(spec.extra_specs.get('blazar:preemptible', '')).lower()
    if preemptible == 'true' and pools.allow_preemptibles:
        return bool(host_pools) and all(
            a['name'] == pools.freepool_name for a in host_pools)
    return not host_pools


def aggregate_extra_specs_filter(host, spec, pools):
    """Nova's AggregateInstanceExtraSpecsFilter, equality only.

    Keys scoped ``aggregate_instance_extra_specs:`` and unscoped keys must
    be found, with that value, in the metadata of one of the host's
    aggregates; keys of other scopes (``hw:``, ``resources:``...) are not
    this filter's business.
    """
    for key, value in spec.extra_specs.items():
        scope, sep, name = key.partition(':')
        if sep and scope != AGGREGATE_SPEC_SCOPE:
            continue
        name = name if sep else key
        values = {a['metadata'].get(name) for a in host.aggregates}
        values.discard(None)
        if str(value) not in values:
            return False
    return True


def server_group_filter(host, spec, pools):
    if spec.group_policy == 'anti-affinity':
        limit = int(spec.group_rules.get('max_server_per_host', 1))
        return spec.group_hosts.count(host.host) < limit
    if spec.group_policy == 'affinity' and spec.group_hosts:
        return host.host in spec.group_hosts
    return True


DEFAULT_FILTERS = (compute_filter, availability_zone_filter, capacity_filter,
                   blazar_filter, aggregate_extra_specs_filter,
                   server_group_filter)


def default_weigher(host, spec):
    """Sort key, smallest first: soft group policy, then spread on RAM."""
    members = spec.group_hosts.count(host.host)
    if spec.group_policy == 'soft-affinity':
        group_key = -members
    elif spec.group_policy == 'soft-anti-affinity':
        group_key = members
    else:
        group_key = 0
    return (group_key, -host.free_ram_mb, host.host)


class Scheduler:
    """Pick hosts for a request among host snapshots."""

    def __init__(self, filters=DEFAULT_FILTERS, weigher=default_weigher,
                 candidates=None):
        self.filters = tuple(filters)
        self.weigher = weigher
        self.candidates = candidates

    def select(self, spec, hosts, pools):
        """The best host for one instance, or None (NoValidHost)."""
        if self.candidates is not None:
            hosts = self.candidates(spec, hosts)
        if spec.forced_host or spec.forced_node:
            # Nova skips every filter for a forced host; only Placement
            # (its allocation candidates) can still refuse it.
            hosts = [h for h in hosts
                     if spec.forced_host in (None, h.host)
                     and spec.forced_node in (None, h.node)]
            hosts = [h for h in hosts if h.fits(spec.flavor)]
        else:
            if spec.requested_host:
                hosts = [h for h in hosts if h.host == spec.requested_host]
            if spec.requested_node:
                hosts = [h for h in hosts if h.node == spec.requested_node]
            hosts = [h for h in hosts
                     if all(f(h, spec, pools) for f in self.filters)]
        if not hosts:
            return None
        return min(hosts, key=lambda h: self.weigher(h, spec))

    def select_many(self, spec, hosts, count, pools, claim=None):
        """Hosts for ``count`` instances of one request, or None.

        ``hosts`` is a list of snapshots, or a callable returning fresh
        ones (after each claim, when Placement decides capacity);
        ``claim(host)`` records each choice, else the snapshot is consumed.
        Undoing the claims of a failed request is the caller's business.
        """
        chosen = []
        for _ in range(count):
            current = hosts() if callable(hosts) else hosts
            host = self.select(spec, current, pools)
            if host is None:
                return None
            if claim is not None:
                claim(host)
            else:
                host.consume(spec.flavor)
            spec.group_hosts.append(host.host)
            chosen.append(host)
        return chosen
