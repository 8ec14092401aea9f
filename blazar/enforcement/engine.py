"""Runs the enabled enforcement filters for the manager."""
import logging
import threading

from oslo_config import cfg
from stevedore import driver

from blazar import exceptions
from blazar.enforcement import views

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
NAMESPACE = 'blazar.enforcement.filters'


class FilterConfigurationError(Exception):
    pass


class Enforcement:
    """The filters named in ``[enforcement] enabled_filters``, read at each
    call (each filter is loaded once) so the configuration in force applies."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loaded = {}
        self._on_end_threads = []

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

    def filters(self):
        """[(name, filter)] in the configured order; raises
        FilterConfigurationError for a name that is not installed."""
        return [(name, self._load(name)) for name in CONF.enforcement.enabled_filters]

    @property
    def enabled(self):
        return bool(CONF.enforcement.enabled_filters)

    def lease_view(self, context, lease_view):
        """The lease as filters see it (one query for what it holds)."""
        return views.lease(context, lease_view)

    # --- checks -----------------------------------------------------------
    def _run(self, hook, context, lease, *args):
        for name, lease_filter in self.filters():
            try:
                getattr(lease_filter, hook)(context, *args)
            except exceptions.EnforcementRefused as exc:
                LOG.info('%s of lease %s (project %s) refused by %s (%s): %s',
                         hook, lease.get('id'), lease.get('project_id'), name,
                         exc.kwargs.get('rule'), exc.message)
                raise

    def check_create(self, context, lease):
        self._run('check_create', context, lease, lease)

    def check_update(self, context, current_lease, new_lease):
        self._run('check_update', context, new_lease, current_lease, new_lease)

    # --- end ----------------------------------------------------------------
    def on_end(self, context, lease):
        """Tell the filters a lease is over, in the background: never
        delays or fails the end, errors are logged."""
        filters = self.filters()
        if not filters:
            return
        thread = threading.Thread(target=self._on_end, args=(filters, context, lease),
                                  name='blazar-enforcement-on-end', daemon=True)
        with self._lock:
            self._on_end_threads = [t for t in self._on_end_threads if t.is_alive()]
            self._on_end_threads.append(thread)
        thread.start()

    @staticmethod
    def _on_end(filters, context, lease):
        for name, lease_filter in filters:
            try:
                lease_filter.on_end(context, lease)
            except Exception:
                LOG.exception('Enforcement filter %s failed at the end of lease %s',
                              name, lease.get('id'))

    def wait_for_on_end(self, timeout=None):
        """Wait for on-end calls under way (tests, orderly shutdown)."""
        with self._lock:
            threads = list(self._on_end_threads)
        for thread in threads:
            thread.join(timeout)
