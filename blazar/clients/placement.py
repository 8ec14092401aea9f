"""The service's only door to Placement, through a keystoneauth Adapter.

Why it looks like this:

* Credentials, endpoint and HTTP behaviour come from the standard
  keystoneauth options of ``[placement]`` (any auth plugin: ``password``
  through Keystone, or ``admin_token`` with a fixed ``endpoint`` + ``token``
  for the simulator and a Keystone-less Placement; session and adapter
  options such as timeouts, ``endpoint_override``, ``valid_interfaces``).
  Every request carries ``OpenStack-API-Version: placement
  [placement]api_microversion`` (1.39 by default; 1.14 is the least this
  module needs, for nested providers).
* Callers get plain dicts and lists and ``blazar.exceptions`` errors:
  ``PlacementUnavailable`` (503) when Placement cannot be reached or says
  it is unavailable, ``ResourceProviderNotFound`` (404) for a missing
  provider, ``PlacementConflict`` when Placement refuses a change (a class
  or provider still in use, generation races that outlived the retries) and
  ``PlacementError`` (502) with Placement's message otherwise.
* Read-modify-write of a provider (inventories, traits) is guarded by the
  provider's generation; a ``placement.concurrent_update`` refusal is
  retried ``[placement]generation_conflict_retries`` times, each time from a
  fresh read, as Placement asks its clients to do.
* Clean-up calls are idempotent: deleting what is already gone is a no-op.
* One client per process (``get_client``), built lazily and thread-safely;
  ``reset_client`` drops it when the configuration changes (tests).
"""
import copy
import logging
from urllib import parse

from blazar import clients
from blazar import exceptions
from blazar.clients import adapters
from blazar.conf import CONF

LOG = logging.getLogger(__name__)
GROUP = 'placement'
RESERVATION_PROVIDER_PREFIX = 'blazar_'
CONCURRENT_UPDATE = 'placement.concurrent_update'


class _HttpError(adapters.HttpError):
    """A non-2xx answer of Placement; never leaves this module."""

    @property
    def is_generation_conflict(self):
        if self.status != 409:
            return False
        if self.code is not None:
            return self.code == CONCURRENT_UPDATE
        return 'generation' in self.detail.lower()   # before 1.23


def _http_error(resp):
    def placement_error(body):
        error = body['errors'][0]
        return error.get('detail') or error.get('title'), error.get('code')
    return adapters.http_error(resp, placement_error, _HttpError)


def _to_blazar(error):
    if error.status in (503, 504):
        return exceptions.PlacementUnavailable(reason=error.reason)
    if error.status == 409:
        return exceptions.PlacementConflict(reason=error.reason)
    return exceptions.PlacementError(reason=error.reason)


_public = adapters.translating(_to_blazar)


def build_adapter(session=None):
    """A keystoneauth ``Adapter`` for Placement, configured from
    ``[placement]``; every request carries ``api_microversion``."""
    return adapters.adapter_from_conf(
        GROUP, 'placement', exceptions.PlacementUnavailable, session=session,
        default_microversion=CONF[GROUP].api_microversion or '1.39')


def _inventory(total, reserved=0, min_unit=1, max_unit=None, step_size=1,
               allocation_ratio=1.0):
    return {'total': int(total), 'reserved': int(reserved),
            'min_unit': int(min_unit),
            'max_unit': int(max_unit if max_unit is not None else total),
            'step_size': int(step_size),
            'allocation_ratio': float(allocation_ratio)}


def _provider_dict(body):
    return {'uuid': body['uuid'], 'name': body['name'],
            'generation': body['generation'],
            'parent_provider_uuid': body.get('parent_provider_uuid'),
            'root_provider_uuid': body.get('root_provider_uuid',
                                           body['uuid'])}


class PlacementClient:
    """Blazar's operations on Placement, answering plain dicts.

    :param adapter: a ready keystoneauth ``Adapter`` (``raise_exc=False``);
        by default one is built from ``[placement]``.
    """

    def __init__(self, adapter=None, retries=None):
        self.adapter = adapter if adapter is not None else build_adapter()
        self.retries = (retries if retries is not None
                        else CONF.placement.generation_conflict_retries)

    # --- plumbing ------------------------------------------------------------
    def _call(self, method, path, body=None):
        """``(status, JSON body or None)`` of a 2xx answer, else
        ``_HttpError``; transport failures become ``blazar.exceptions``."""
        return adapters.call(self.adapter, method, path, body, _http_error,
                             exceptions.PlacementUnavailable, exceptions.PlacementError)

    def _rp_call(self, rp_uuid, method, path, body=None):
        """A call about one provider: 404 -> ResourceProviderNotFound."""
        try:
            return self._call(method, path, body)
        except _HttpError as error:
            if error.status == 404:
                raise exceptions.ResourceProviderNotFound(
                    provider=rp_uuid) from error
            raise

    def _with_generation(self, rp_uuid, read, write, what):
        """Read-modify-write of one provider, retried on stale generation.

        ``read()`` -> (generation, current); ``write(generation, current)``
        performs the change (or returns ``current`` untouched when there is
        nothing to do) and returns the result.
        """
        for attempt in range(self.retries + 1):
            generation, current = read()
            try:
                return write(generation, current)
            except _HttpError as error:
                if not error.is_generation_conflict:
                    raise
                LOG.debug('Generation conflict on %s of resource provider '
                          '%s (attempt %d): %s', what, rp_uuid, attempt + 1,
                          error.detail)
        LOG.warning('Giving up on %s of resource provider %s: its generation '
                    'kept changing', what, rp_uuid)
        raise exceptions.PlacementConflict(
            reason='resource provider %s kept changing during the %s update '
                   '(%d attempts)' % (rp_uuid, what, self.retries + 1))

    # --- resource providers --------------------------------------------------
    @_public
    def get_provider(self, rp_uuid):
        """The provider, or None."""
        try:
            _status, body = self._call('GET', '/resource_providers/%s'
                                       % rp_uuid)
        except _HttpError as error:
            if error.status == 404:
                return None
            raise
        return _provider_dict(body)

    @_public
    def get_provider_by_name(self, name):
        """The provider named ``name`` (names are unique), or None."""
        _status, body = self._call('GET', '/resource_providers?name=%s'
                                   % _quote(name))
        found = body['resource_providers']
        return _provider_dict(found[0]) if found else None

    @_public
    def get_provider_tree(self, root_uuid):
        """Every provider of the tree holding ``root_uuid``, root first
        ([] when there is no such provider)."""
        _status, body = self._call('GET', '/resource_providers?in_tree=%s'
                                   % _quote(root_uuid))
        providers = [_provider_dict(p) for p in body['resource_providers']]
        return sorted(providers,
                      key=lambda p: p['parent_provider_uuid'] is not None)

    @_public
    def create_provider(self, name, parent_uuid=None, uuid=None):
        """Create a provider (a child of ``parent_uuid`` if given)."""
        body = {'name': name}
        if parent_uuid is not None:
            body['parent_provider_uuid'] = parent_uuid
        if uuid is not None:
            body['uuid'] = uuid
        try:
            _status, created = self._call('POST', '/resource_providers',
                                          body)
        except _HttpError as error:
            if error.status == 400 and parent_uuid is not None \
                    and 'parent' in error.detail.lower():
                raise exceptions.ResourceProviderNotFound(
                    provider=parent_uuid) from error
            raise
        if created is None:              # microversions before 1.20
            return self.get_provider_by_name(name)
        return _provider_dict(created)

    @_public
    def delete_provider(self, rp_uuid):
        """Delete a provider; already gone is fine.  Raises
        ``PlacementConflict`` while it has allocations or children."""
        try:
            self._call('DELETE', '/resource_providers/%s' % rp_uuid)
        except _HttpError as error:
            if error.status != 404:
                raise

    @_public
    def reservation_provider(self, hostname):
        """The ``blazar_<hostname>`` child of the compute node provider
        named ``hostname``, created if missing (upstream Blazar's layout:
        Nova's resource tracker owns the root's inventory, so reservation
        classes live on this child)."""
        name = RESERVATION_PROVIDER_PREFIX + hostname
        existing = self.get_provider_by_name(name)
        if existing is not None:
            return existing
        root = self.get_provider_by_name(hostname)
        if root is None:
            raise exceptions.ResourceProviderNotFound(provider=hostname)
        try:
            return self.create_provider(name, parent_uuid=root['uuid'])
        except exceptions.PlacementConflict:
            existing = self.get_provider_by_name(name)   # created meanwhile
            if existing is None:
                raise
            return existing

    @_public
    def delete_reservation_provider(self, hostname):
        """Delete the ``blazar_<hostname>`` child if it exists."""
        existing = self.get_provider_by_name(
            RESERVATION_PROVIDER_PREFIX + hostname)
        if existing is not None:
            self.delete_provider(existing['uuid'])

    # --- inventories ---------------------------------------------------------
    def _read_inventories(self, rp_uuid):
        _status, body = self._rp_call(
            rp_uuid, 'GET', '/resource_providers/%s/inventories' % rp_uuid)
        return body['resource_provider_generation'], body['inventories']

    def _change_inventories(self, rp_uuid, change, what):
        """Apply ``change(inventories) -> inventories`` under generation
        protection; returns the provider's inventories afterwards."""
        def write(generation, current):
            wanted = change(copy.deepcopy(current))
            if wanted == current:
                return current
            _status, body = self._rp_call(
                rp_uuid, 'PUT', '/resource_providers/%s/inventories'
                % rp_uuid, {'resource_provider_generation': generation,
                            'inventories': wanted})
            return body['inventories']
        return self._with_generation(
            rp_uuid, lambda: self._read_inventories(rp_uuid), write, what)

    @_public
    def get_inventories(self, rp_uuid):
        """``{class: {total, reserved, min_unit, max_unit, step_size,
        allocation_ratio}}`` of a provider."""
        return self._read_inventories(rp_uuid)[1]

    @_public
    def set_inventory(self, rp_uuid, resource_class, total, reserved=0,
                      min_unit=1, max_unit=None, step_size=1,
                      allocation_ratio=1.0):
        """Create or replace one class's inventory (``max_unit`` defaults
        to ``total``; ``total=0`` removes the class).  Returns the new
        inventory (None when removed)."""
        if total <= 0:
            self.remove_inventory(rp_uuid, resource_class)
            return None
        inventory = _inventory(total, reserved, min_unit, max_unit,
                               step_size, allocation_ratio)

        def change(inventories):
            inventories[resource_class] = inventory
            return inventories
        return self._change_inventories(rp_uuid, change,
                                        resource_class)[resource_class]

    @_public
    def add_to_inventory(self, rp_uuid, resource_class, amount, **fields):
        """Grow one class's ``total`` by ``amount``, creating the class
        with ``fields`` (as ``set_inventory``'s) if absent.  An existing
        inventory keeps its other fields unless given.  Returns it."""
        if amount < 0:
            raise ValueError('amount must be >= 0')

        def change(inventories):
            current = inventories.get(resource_class)
            if current is None:
                inventories[resource_class] = _inventory(amount, **fields)
            else:
                current.update(fields)
                current['total'] += amount
            return inventories
        return self._change_inventories(rp_uuid, change,
                                        resource_class)[resource_class]

    @_public
    def remove_inventory(self, rp_uuid, resource_class, amount=None):
        """Remove one class's inventory, or with ``amount`` shrink its
        ``total`` (removing it at 0).  A missing provider or class is fine.
        Raises ``PlacementConflict`` when allocations still use the class.
        Returns the class's inventory left, or None."""
        def change(inventories):
            current = inventories.get(resource_class)
            if current is None:
                return inventories
            if amount is None or current['total'] - amount <= 0:
                del inventories[resource_class]
            else:
                current['total'] -= amount
            return inventories
        try:
            left = self._change_inventories(rp_uuid, change, resource_class)
        except exceptions.ResourceProviderNotFound:
            return None
        return left.get(resource_class)

    # --- usages and allocations ----------------------------------------------
    @_public
    def get_usages(self, rp_uuid):
        """``{class: amount used}`` on one provider."""
        _status, body = self._rp_call(
            rp_uuid, 'GET', '/resource_providers/%s/usages' % rp_uuid)
        return body['usages']

    @_public
    def get_allocations(self, consumer_uuid):
        """``{provider uuid: {class: amount}}`` held by a consumer."""
        _status, body = self._call('GET', '/allocations/%s' % consumer_uuid)
        return {rp: dict(entry['resources'])
                for rp, entry in body['allocations'].items()}

    # --- resource classes ----------------------------------------------------
    @_public
    def create_resource_class(self, name):
        """Make sure the custom class ``name`` (``CUSTOM_*``) exists."""
        self._call('PUT', '/resource_classes/%s' % name)

    @_public
    def list_resource_classes(self, prefix=''):
        """Names of the resource classes starting with ``prefix``."""
        _status, body = self._call('GET', '/resource_classes')
        return sorted(rc['name'] for rc in body['resource_classes']
                      if rc['name'].startswith(prefix))

    @_public
    def list_providers(self, prefix=''):
        """Providers whose name starts with ``prefix``."""
        _status, body = self._call('GET', '/resource_providers')
        return [_provider_dict(rp) for rp in body['resource_providers']
                if rp['name'].startswith(prefix)]

    @_public
    def delete_resource_class(self, name):
        """Delete a custom class; already gone is fine.  Raises
        ``PlacementConflict`` while some inventory uses it."""
        try:
            self._call('DELETE', '/resource_classes/%s' % name)
        except _HttpError as error:
            if error.status != 404:
                raise

    # --- traits --------------------------------------------------------------
    def _read_traits(self, rp_uuid):
        _status, body = self._rp_call(
            rp_uuid, 'GET', '/resource_providers/%s/traits' % rp_uuid)
        return body['resource_provider_generation'], body['traits']

    @_public
    def get_traits(self, rp_uuid):
        """The trait names of one provider."""
        return sorted(self._read_traits(rp_uuid)[1])

    @_public
    def ensure_trait(self, name):
        """Make sure the custom trait ``name`` (``CUSTOM_*``) exists."""
        self._call('PUT', '/traits/%s' % name)

    @_public
    def set_traits(self, rp_uuid, traits):
        """Replace a provider's traits (they must exist); returns them."""
        wanted = sorted(set(traits))

        def write(generation, current):
            if sorted(current) == wanted:
                return wanted
            _status, body = self._rp_call(
                rp_uuid, 'PUT', '/resource_providers/%s/traits' % rp_uuid,
                {'resource_provider_generation': generation,
                 'traits': wanted})
            return sorted(body['traits'])
        return self._with_generation(
            rp_uuid, lambda: self._read_traits(rp_uuid), write, 'traits')

    @_public
    def providers_with_traits(self, required=(), forbidden=()):
        """Providers having every ``required`` trait and no ``forbidden``
        one (``GET /resource_providers?required=``).  A trait Placement
        does not know is on no provider: the answer is then []."""
        names = list(required) + ['!' + name for name in forbidden]
        path = '/resource_providers'
        if names:
            path += '?required=' + _quote(','.join(names))
        try:
            _status, body = self._call('GET', path)
        except _HttpError as error:
            if error.status == 400 and 'no such trait' in \
                    error.detail.lower():
                return []
            raise
        return [_provider_dict(p) for p in body['resource_providers']]


def _quote(value):
    return parse.quote(str(value), safe=',!:')


_cached = clients.Cached(lambda: PlacementClient())


def get_client():
    """The process-wide ``PlacementClient``, built on first use."""
    return _cached.get()


def reset_client():
    """Forget the cached client (after ``[placement]`` options changed)."""
    _cached.reset()
