"""The service's only door to Nova (compute API), through python-novaclient.

Why it looks like this:

* Credentials come from the standard keystoneauth options of ``[nova]``
  (any auth plugin: ``password`` against Keystone, or ``admin_token`` with a
  fixed ``endpoint`` + ``token`` for the simulator and Keystone-less Nova),
  plus the session and adapter options (timeouts, endpoint_override,
  region_name, valid_interfaces...).
* Callers get plain dicts and lists, never novaclient objects, so nothing
  outside this module depends on novaclient.
* Every failure becomes a ``blazar.exceptions`` error: ``NovaUnavailable``
  (503) when Nova cannot be reached, ``NovaError`` (502) carrying Nova's
  message otherwise, and specific errors (``HostNotFound``...) where the
  caller needs to tell cases apart.
* One client per process (``get_client``), built lazily and thread-safely;
  ``reset_client`` drops it when the configuration changes (tests).
"""
import contextlib
import inspect
import json
import logging
import time
import urllib.parse

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from novaclient import api_versions
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
from oslo_utils import uuidutils

from blazar import clients
from blazar import exceptions
from blazar.conf import CONF

LOG = logging.getLogger(__name__)
GROUP = 'nova'
PAGE = 1000          # Nova's default [api]max_limit
POLL_INTERVAL = 5.0  # seconds between two looks at servers being deleted

# Every exception class python-novaclient defines: none may escape.
_NOVACLIENT_ERRORS = tuple(
    cls for _name, cls in inspect.getmembers(nova_exc, inspect.isclass)
    if issubclass(cls, Exception) and cls.__module__ == nova_exc.__name__)


def _reason(exc):
    message = getattr(exc, 'message', None) or str(exc) or type(exc).__name__
    code = getattr(exc, 'code', None)
    if isinstance(code, int):
        return '%s (HTTP %s)' % (message, code)
    return str(message)


@contextlib.contextmanager
def translate_errors():
    """Turn keystoneauth/novaclient errors into ``blazar.exceptions``."""
    try:
        yield
    except exceptions.BlazarException:
        raise
    except ks_exc.ConnectionError as exc:
        raise exceptions.NovaUnavailable(reason=_reason(exc)) from exc
    except nova_exc.ClientException as exc:
        if exc.code in (503, 504):
            raise exceptions.NovaUnavailable(reason=_reason(exc)) from exc
        if exc.code == 409:
            raise exceptions.NovaConflict(reason=_reason(exc)) from exc
        raise exceptions.NovaError(reason=_reason(exc)) from exc
    except (ks_exc.ClientException,) + _NOVACLIENT_ERRORS as exc:
        raise exceptions.NovaError(reason=_reason(exc)) from exc


def build_novaclient(version=None, session=None, endpoint_override=None):
    """A novaclient ``Client`` configured from ``[nova]``.

    ``version`` defaults to ``[nova]api_microversion``; 'latest' is
    negotiated with the server (the highest both sides speak).
    """
    opts = CONF[GROUP]
    with translate_errors():
        if session is None:
            auth = ks_loading.load_auth_from_conf_options(CONF, GROUP)
            if auth is None:
                raise exceptions.NovaUnavailable(
                    reason='no credentials in [nova] (set auth_type)')
            session = ks_loading.load_session_from_conf_options(
                CONF, GROUP, auth=auth)
        kwargs = {
            'session': session,
            'service_type': opts.service_type or 'compute',
            'service_name': opts.service_name,
            'endpoint_type': opts.valid_interfaces or 'public',
            'region_name': opts.region_name,
            'endpoint_override': endpoint_override or opts.endpoint_override,
        }
        for name in ('connect_retries', 'connect_retry_delay',
                     'status_code_retries', 'status_code_retry_delay'):
            if opts[name] is not None:
                kwargs[name] = opts[name]
        version = version or opts.api_microversion
        if str(version).lower() == 'latest':
            probe = nova_client.Client('2.1', **kwargs)
            version = api_versions.discover_version(
                probe, api_versions.APIVersion('2.latest'))
        return nova_client.Client(version, **kwargs)


def _attr(resource, name, default=None):
    return getattr(resource, name, default)


def _hypervisor_dict(hyp, zone):
    info = hyp.to_dict()
    cpu_info = info.get('cpu_info')
    if isinstance(cpu_info, dict):
        cpu_info = json.dumps(cpu_info)
    return {
        'hypervisor_id': str(info['id']),
        'hypervisor_hostname': info['hypervisor_hostname'],
        'service_name': (info.get('service') or {}).get('host'),
        'vcpus': info.get('vcpus'),
        'memory_mb': info.get('memory_mb'),
        'local_gb': info.get('local_gb'),
        'cpu_info': cpu_info,
        'hypervisor_type': info.get('hypervisor_type'),
        'hypervisor_version': info.get('hypervisor_version'),
        'state': info.get('state'),
        'status': info.get('status'),
        'availability_zone': zone,
    }


def _aggregate_dict(agg):
    return {'id': agg.id, 'uuid': _attr(agg, 'uuid'), 'name': agg.name,
            'availability_zone': _attr(agg, 'availability_zone'),
            'hosts': list(_attr(agg, 'hosts', None) or []),
            'metadata': dict(_attr(agg, 'metadata', None) or {})}


def _server_dict(server):
    info = server.to_dict()
    return {
        'id': info['id'], 'name': info.get('name'),
        'status': info.get('status'),
        'project_id': info.get('tenant_id'), 'user_id': info.get('user_id'),
        'host': info.get('OS-EXT-SRV-ATTR:host'),
        'hypervisor_hostname': info.get('OS-EXT-SRV-ATTR:hypervisor_hostname'),
        'task_state': info.get('OS-EXT-STS:task_state'),
        'flavor': info.get('flavor'),
        'created': info.get('created'),
        'fault': info.get('fault'),
    }


def _service_dict(service):
    info = service.to_dict()
    keys = ('id', 'host', 'binary', 'zone', 'status', 'state',
            'forced_down', 'disabled_reason', 'updated_at')
    return {key: info.get(key) for key in keys}


class NovaClient:
    """Blazar's operations on Nova, answering plain dicts.

    :param nova: a ready novaclient ``Client`` (e.g. built with a user's
        session); by default one is built from ``[nova]``.
    """

    def __init__(self, nova=None):
        self.nova = nova if nova is not None else build_novaclient()

    @property
    def _uuid_ids(self):
        return self.nova.api_version >= api_versions.APIVersion('2.53')

    # --- hypervisors -------------------------------------------------------
    def _zones_by_host(self):
        """{compute host: availability zone} from os-availability-zone."""
        if not CONF.nova.az_aware:
            return {}
        zones = {}
        for zone in self.nova.availability_zones.list(detailed=True):
            if zone.zoneName == 'internal':
                continue
            for host, services in (zone.hosts or {}).items():
                if 'nova-compute' in (services or {}):
                    zones.setdefault(host, zone.zoneName)
        return zones

    def _one_hypervisor(self, hyp):
        host = (_attr(hyp, 'service') or {}).get('host')
        return _hypervisor_dict(hyp, self._zones_by_host().get(host, ''))

    def _search(self, name):
        """Hypervisors whose hostname contains ``name`` (Nova's search)."""
        try:
            if self._uuid_ids:
                return self.nova.hypervisors.search(name, detailed=True)
            return [self.nova.hypervisors.get(h.id)
                    for h in self.nova.hypervisors.search(name)]
        except nova_exc.NotFound:
            return []

    def get_hypervisor(self, ref):
        """A hypervisor by id, or by exact hostname.

        The hypervisor hostname is tried first, then the compute service
        host name (they differ when Nova reports FQDNs).  Nova's search
        matches substrings ('compute-1' also finds 'compute-10'), so only
        exact names count; several exact matches are ambiguous
        (``MultipleHostsFound``), none is ``HostNotFound``.
        """
        ref = str(ref)
        with translate_errors():
            looks_like_id = (uuidutils.is_uuid_like(ref) if self._uuid_ids
                             else ref.isdigit())
            if looks_like_id:
                try:
                    return self._one_hypervisor(self.nova.hypervisors.get(ref))
                except nova_exc.NotFound:
                    pass
            exact = [h for h in self._search(ref)
                     if h.hypervisor_hostname == ref]
            if not exact:
                # The compute service host name, when it differs.
                exact = [h for h in self._all_hypervisors()
                         if (_attr(h, 'service') or {}).get('host') == ref]
            if not exact:
                raise exceptions.HostNotFound(host=ref)
            if len(exact) > 1:
                raise exceptions.MultipleHostsFound(host=ref)
            return self._one_hypervisor(exact[0])

    def _all_hypervisors(self):
        """Every hypervisor, detailed, following Nova's pages (2.33+)."""
        if self.nova.api_version < api_versions.APIVersion('2.33'):
            return list(self.nova.hypervisors.list())
        found, marker = [], None
        while True:
            page = self.nova.hypervisors.list(marker=marker, limit=PAGE)
            found.extend(page)
            if len(page) < PAGE:
                return found
            marker = page[-1].id

    def list_hypervisors(self):
        """Every hypervisor (detailed), as ``get_hypervisor`` dicts."""
        with translate_errors():
            found = self._all_hypervisors()
            zones = self._zones_by_host()
            return [_hypervisor_dict(
                h, zones.get((_attr(h, 'service') or {}).get('host'), ''))
                for h in found]

    # --- services ------------------------------------------------------------
    def list_services(self, host=None, binary='nova-compute'):
        """Compute services (id, host, status, state, forced_down...)."""
        with translate_errors():
            return [_service_dict(s)
                    for s in self.nova.services.list(host=host, binary=binary)]

    # --- servers -------------------------------------------------------------
    def list_servers(self, host=None, flavor=None, all_tenants=True):
        """Servers of every project (by default) on a host / of a flavor."""
        opts = {}
        if all_tenants:
            opts['all_tenants'] = 1
        if host:
            opts['host'] = host
        if flavor:
            opts['flavor'] = flavor
        with translate_errors():
            return [_server_dict(s) for s in self.nova.servers.list(
                detailed=True, search_opts=opts, limit=-1)]

    def servers_on_host(self, host):
        """Every server on a compute host, all projects included."""
        return self.list_servers(host=host)

    def get_server(self, server_id):
        """A server dict, or None when Nova does not know it."""
        with translate_errors():
            try:
                return _server_dict(self.nova.servers.get(server_id))
            except nova_exc.NotFound:
                return None

    def delete_server(self, server_id):
        """Ask Nova to delete a server; an unknown server is fine."""
        with translate_errors():
            try:
                self.nova.servers.delete(server_id)
            except nova_exc.NotFound:
                LOG.debug('Server %s already gone', server_id)

    def stop_server(self, server_id):
        """Stop a server; unknown or already stopped is fine."""
        with translate_errors():
            try:
                self.nova.servers.stop(server_id)
            except (nova_exc.NotFound, nova_exc.Conflict):
                LOG.debug('Server %s gone or not running', server_id)

    def shelve_server(self, server_id):
        """Shelve a server and offload it from its host (its capacity is
        freed); unknown is fine."""
        with translate_errors():
            try:
                server = self.nova.servers.get(server_id)
                if server.status == 'SHELVED':
                    self.nova.servers.shelve_offload(server_id)
                elif server.status != 'SHELVED_OFFLOADED':
                    self.nova.servers.shelve(server_id)
            except nova_exc.NotFound:
                LOG.debug('Server %s already gone', server_id)

    def wait_servers_status(self, server_ids, statuses, timeout,
                            interval=POLL_INTERVAL):
        """Poll until every server is in one of ``statuses`` or gone; return
        the ids of those that are not by the deadline."""
        deadline = time.monotonic() + timeout
        remaining = list(server_ids)
        while True:
            still = []
            for server_id in remaining:
                server = self.get_server(server_id)
                if server is not None and server['status'] not in statuses:
                    still.append(server_id)
            remaining = still
            left = deadline - time.monotonic()
            if not remaining or left <= 0:
                return remaining
            time.sleep(min(interval, left))

    def snapshot_server(self, server_id, name, metadata=None):
        """Snapshot a server (createImage); returns the image id."""
        with translate_errors():
            return self.nova.servers.create_image(server_id, name,
                                                  metadata=metadata)

    def delete_servers(self, servers, what):
        """Delete servers and wait (``[nova] server_deletion_timeout``) for
        them to go; raise ``NovaError`` naming ``what`` while some remain,
        so that the caller's step is retried."""
        for server in servers:
            self.delete_server(server['id'])
        left = self.wait_servers_deleted([s['id'] for s in servers])
        if left:
            raise exceptions.NovaError(
                reason='%d server(s) of %s are not deleted yet: %s'
                       % (len(left), what, ', '.join(map(str, left[:5]))))

    def wait_servers_deleted(self, server_ids, timeout=None,
                             interval=POLL_INTERVAL):
        """Poll until the servers are gone; return those still there.

        ``timeout`` defaults to ``[nova]server_deletion_timeout``; an empty
        answer means every server disappeared in time.
        """
        if timeout is None:
            timeout = CONF.nova.server_deletion_timeout
        return self.wait_servers_status(server_ids, ('DELETED',), timeout, interval)

    # --- aggregates ----------------------------------------------------------
    def list_aggregates(self):
        """Every aggregate (id, name, availability_zone, hosts, metadata)."""
        with translate_errors():
            return [_aggregate_dict(agg) for agg in self.nova.aggregates.list()]

    def find_aggregate(self, name, known_id=None):
        """The aggregate called ``name``, or None. ``known_id``: where it
        was last seen, looked at first (one aggregate read, where finding
        it by name lists every aggregate of the cloud)."""
        if known_id is not None:
            try:
                agg = self.get_aggregate(known_id)
            except exceptions.AggregateNotFound:
                agg = None
            if agg is not None and agg['name'] == name:
                return agg
        with translate_errors():
            for agg in self.nova.aggregates.list():
                if agg.name == name:
                    return _aggregate_dict(agg)
        return None

    def get_aggregate(self, aggregate_id):
        with translate_errors():
            try:
                return _aggregate_dict(self.nova.aggregates.get(aggregate_id))
            except nova_exc.NotFound:
                raise exceptions.AggregateNotFound(name=aggregate_id)

    def create_aggregate(self, name, availability_zone=None, metadata=None):
        """Create an aggregate with its metadata, or leave nothing behind."""
        with translate_errors():
            agg = self.nova.aggregates.create(name, availability_zone)
        if not metadata:
            return self.get_aggregate(agg.id)
        try:
            return self.set_metadata(agg.id, metadata)
        except exceptions.BlazarException:
            try:
                self.delete_aggregate(agg.id)
            except exceptions.BlazarException:
                LOG.warning('Could not remove aggregate %s after a failed '
                            'creation', name)
            raise

    def get_or_create_aggregate(self, name, availability_zone=None,
                                metadata=None, known_id=None, likely_new=False):
        """The aggregate ``name``, created if missing (``known_id``: see
        ``find_aggregate``). ``likely_new``: it is created first, which
        costs no listing of every aggregate when it is indeed new.

        An existing one keeps its zone; missing or different ``metadata``
        keys are set, so a retried call converges.
        """
        # Likely new: creating is the look. Nova refuses a second aggregate
        # of a name (409), and only then is it looked for among all (a run
        # stopped before it recorded the id, a creation race).
        agg = None if likely_new else self.find_aggregate(name, known_id)
        if agg is None:
            try:
                return self.create_aggregate(name, availability_zone,
                                             metadata)
            except exceptions.NovaError:
                agg = self.find_aggregate(name)
                if agg is None:
                    raise
        metadata = dict(metadata or {})
        if any(agg['metadata'].get(k) != str(v) for k, v in metadata.items()):
            agg = self.set_metadata(agg['id'], metadata)
        return agg

    def delete_aggregate(self, aggregate_id, known=None):
        """Delete an aggregate, emptying it first; unknown is fine.
        ``known``: the aggregate as the caller has just read it (not read
        again)."""
        agg = known
        if agg is None:
            try:
                agg = self.get_aggregate(aggregate_id)
            except exceptions.AggregateNotFound:
                return
        for host in agg['hosts']:
            self.remove_host(aggregate_id, host)
        with translate_errors():
            try:
                self.nova.aggregates.delete(aggregate_id)
            except nova_exc.NotFound:
                pass

    def add_host(self, aggregate_id, host):
        """Put a host in an aggregate; already there is not an error."""
        with translate_errors():
            try:
                return _aggregate_dict(
                    self.nova.aggregates.add_host(aggregate_id, host))
            except nova_exc.Conflict:
                agg = self.get_aggregate(aggregate_id)
                if host in agg['hosts']:
                    return agg
                raise
            except nova_exc.NotFound:
                self.get_aggregate(aggregate_id)   # AggregateNotFound?
                raise exceptions.HostNotFound(host=host)

    def remove_host(self, aggregate_id, host):
        """Take a host out of an aggregate; not there is not an error."""
        with translate_errors():
            try:
                return _aggregate_dict(
                    self.nova.aggregates.remove_host(aggregate_id, host))
            except nova_exc.NotFound:
                agg = self.get_aggregate(aggregate_id)
                if host not in agg['hosts']:
                    return agg
                raise

    def set_metadata(self, aggregate_id, metadata):
        """Merge metadata into an aggregate (a None value removes a key)."""
        with translate_errors():
            try:
                return _aggregate_dict(
                    self.nova.aggregates.set_metadata(aggregate_id, metadata))
            except nova_exc.NotFound:
                raise exceptions.AggregateNotFound(name=aggregate_id)

    def freepool(self):
        """The freepool aggregate (``[nova]aggregate_freepool_name``)."""
        return self.get_or_create_aggregate(CONF.nova.aggregate_freepool_name)


    # --- flavors -------------------------------------------------------------
    def get_flavor(self, flavor_id):
        """A flavor with its ``extra_specs``, or None when Nova has none
        visible under that id."""
        with translate_errors():
            try:
                # Quoted: an id such as '?x' would otherwise list flavors.
                flavor = self.nova.flavors.get(
                    urllib.parse.quote(str(flavor_id), safe=''))
            except nova_exc.NotFound:
                return None
            return _flavor_dict(flavor, flavor.get_keys())

    def create_flavor(self, flavor_id, name, vcpus, ram, disk, ephemeral=0,
                      swap=0, is_public=False, extra_specs=None):
        """Create a flavor with its extra specs, or leave nothing behind."""
        with translate_errors():
            flavor = self.nova.flavors.create(
                name, ram, vcpus, disk, flavorid=flavor_id, ephemeral=ephemeral,
                swap=swap, is_public=is_public)
        try:
            specs = {}
            if extra_specs:
                with translate_errors():
                    specs = flavor.set_keys({k: str(v) for k, v in extra_specs.items()})
            return _flavor_dict(flavor, specs)
        except exceptions.BlazarException:
            try:
                self.delete_flavor(flavor_id)
            except exceptions.BlazarException:
                LOG.warning('Could not remove flavor %s after a failed creation',
                            flavor_id)
            raise

    def flavor_usable_by(self, flavor, project_id):
        """Whether a project may boot ``flavor`` (public, or shared with it)."""
        if flavor.get('is_public', True):
            return True
        with translate_errors():
            try:
                access = self.nova.flavor_access.list(flavor=flavor['id'])
            except nova_exc.NotFound:
                return False
        return any(a.tenant_id == project_id for a in access)

    def delete_flavor(self, flavor_id):
        """Delete a flavor; unknown is fine."""
        with translate_errors():
            try:
                self.nova.flavors.delete(flavor_id)
            except nova_exc.NotFound:
                pass

    def add_flavor_access(self, flavor_id, project_id):
        """Let a project use a private flavor; already allowed is fine."""
        with translate_errors():
            try:
                self.nova.flavor_access.add_tenant_access(flavor_id, project_id)
            except nova_exc.Conflict:
                pass

    def remove_flavor_access(self, flavor_id, project_id):
        """Take a project's access away; not allowed or no flavor is fine."""
        with translate_errors():
            try:
                self.nova.flavor_access.remove_tenant_access(flavor_id, project_id)
            except nova_exc.NotFound:
                pass

    # --- server groups -------------------------------------------------------
    def create_server_group(self, name, policy):
        """A server group with one policy (``affinity``/``anti-affinity``)."""
        with translate_errors():
            group = self.nova.server_groups.create(name=name, policy=policy)
        return {'id': group.id, 'name': group.name, 'policy': policy}

    def list_server_groups(self, name=None):
        """Server groups of every project (admin), optionally only those
        called ``name``: ``[{id, name, policy, project_id}]``."""
        with translate_errors():
            groups = self.nova.server_groups.list(all_projects=True, limit=PAGE)
        found = []
        for group in groups:
            if name is not None and group.name != name:
                continue
            policies = _attr(group, 'policies') or []
            found.append({'id': group.id, 'name': group.name,
                          'policy': _attr(group, 'policy') or (policies[0] if policies
                                                               else None),
                          'project_id': _attr(group, 'project_id')})
        return found

    def list_flavors(self):
        """Every flavor, public and private (admin): ``[{id, name, is_public}]``."""
        with translate_errors():
            flavors = self.nova.flavors.list(is_public=None)
        return [{'id': f.id, 'name': f.name,
                 'is_public': _attr(f, 'os-flavor-access:is_public', True)}
                for f in flavors]

    def delete_server_group(self, group_id):
        """Delete a server group; unknown is fine."""
        with translate_errors():
            try:
                self.nova.server_groups.delete(group_id)
            except nova_exc.NotFound:
                pass


def _flavor_dict(flavor, extra_specs):
    return {'id': flavor.id, 'name': flavor.name, 'vcpus': flavor.vcpus,
            'ram': flavor.ram, 'disk': flavor.disk,
            'ephemeral': _attr(flavor, 'OS-FLV-EXT-DATA:ephemeral', 0) or 0,
            'swap': _attr(flavor, 'swap', 0) or 0,
            'is_public': _attr(flavor, 'os-flavor-access:is_public', True),
            'extra_specs': dict(extra_specs or {})}


def owner_client(lease):
    """A ``NovaClient`` acting as a lease's owner, for what Nova keeps per
    project (server groups, which it only lets their own project use).

    With Keystone, the lease's trust makes it the owner. A Keystone-less
    Nova (its noauth middleware, or the simulator, reached with ``[nova]
    auth_type = admin_token``) takes ``<user>:<project>`` tokens, so the
    owner is addressed that way. Otherwise the service's own client."""
    from blazar.clients import keystone
    session = keystone.session_for_lease(lease)
    with translate_errors():
        auth = ks_loading.load_auth_from_conf_options(CONF, GROUP)
    fixed = auth.endpoint if isinstance(auth, token_endpoint.Token) else None
    if session is None and fixed and lease.get('user_id') and lease.get('project_id'):
        session = ks_session.Session(auth=token_endpoint.Token(
            fixed, '%s:%s' % (lease['user_id'], lease['project_id'])))
    if session is None:
        return get_client()
    # A trust's catalog may lack compute where [nova] names it outright.
    return NovaClient(build_novaclient(session=session, endpoint_override=fixed))


_cached = clients.Cached(lambda: NovaClient())


def get_client():
    """The process-wide ``NovaClient``, built on first use."""
    return _cached.get()


def reset_client():
    """Forget the cached client (after ``[nova]`` options changed)."""
    _cached.reset()
