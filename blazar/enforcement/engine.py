"""Runs the enabled enforcement filters for the manager."""
import logging
import threading

from oslo_config import cfg
from oslo_utils import timeutils
from stevedore import driver

from blazar import deferred
from blazar import exceptions
from blazar import rpc
from blazar.enforcement import views

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
NAMESPACE = 'blazar.enforcement.filters'
ON_END = 'enforcement.on_end'


class FilterConfigurationError(Exception):
    pass


class Enforcement:
    """The filters named in ``[enforcement] enabled_filters``, read at each
    call (each filter is loaded once) so the configuration in force applies."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loaded = {}

    # --- loading ----------------------------------------------------------
    def _load(self, name):
        with self._lock:
            if name not in self._loaded:
                try:
                    self._loaded[name] = driver.DriverManager(
                        NAMESPACE, name, invoke_on_load=True).driver
                except Exception as exc:
                    raise FilterConfigurationError(
                        'Cannot load enforcement filter %r (namespace %s): %s'
                        % (name, NAMESPACE, exc))
                LOG.info('Loaded enforcement filter %s', name)
            return self._loaded[name]

    def filters(self, remote=None):
        """[(name, filter)] in the configured order; raises
        FilterConfigurationError for a name that is not installed. With
        ``remote`` True (False), only the filters that call a remote service
        (the others): those are asked before the allocation lock is taken."""
        found = [(name, self._load(name)) for name in CONF.enforcement.enabled_filters]
        if remote is None:
            return found
        return [(name, f) for name, f in found if getattr(f, 'remote', False) == remote]

    @property
    def has_remote(self):
        return bool(self.filters(remote=True))

    @property
    def enabled(self):
        return bool(CONF.enforcement.enabled_filters)

    def lease_view(self, context, lease_view):
        """The lease as filters see it (one query for what it holds)."""
        return views.lease(context, lease_view)

    # --- checks -----------------------------------------------------------
    def _run(self, hook, context, lease, *args, remote=None):
        for name, lease_filter in self.filters(remote):
            try:
                getattr(lease_filter, hook)(context, *args)
            except exceptions.EnforcementRefused as exc:
                LOG.info('%s of lease %s (project %s) refused by %s (%s): %s',
                         hook, lease.get('id'), lease.get('project_id'), name,
                         exc.kwargs.get('rule'), exc.message)
                raise

    def check_create(self, context, lease, remote=None):
        self._run('check_create', context, lease, lease, remote=remote)

    def check_update(self, context, current_lease, new_lease, remote=None):
        self._run('check_update', context, new_lease, current_lease, new_lease,
                  remote=remote)

    # --- end ----------------------------------------------------------------
    def record_on_end(self, context, lease):
        """Inside the transaction that ends or deletes a lease: one deferred
        call per filter (blazar/manager/deferred.py), made after the commit
        and retried until it succeeds, across restarts too."""
        for name, _filter in self.filters():
            deferred.add(context, ON_END, {
                'filter': name, 'context': context.to_dict(),
                'lease': rpc.to_primitive(lease)})

    def on_end(self, context, payload):
        """Run one deferred on-end call; raises if the filter failed."""
        lease_filter = self._load(payload['filter'])
        lease_filter.on_end(context, _revive(payload['lease']))


def _revive(lease):
    """Dates back to datetimes, as filters get them during the checks."""
    lease = dict(lease)
    for key in ('start_date', 'end_date', 'created_at', 'updated_at'):
        if isinstance(lease.get(key), str):
            lease[key] = timeutils.parse_isotime(lease[key]).replace(tzinfo=None)
    return lease


_shared = None


@deferred.handler(ON_END)
def _deferred_on_end(context, payload):
    global _shared
    if _shared is None:
        _shared = Enforcement()
    _shared.on_end(context, payload)
