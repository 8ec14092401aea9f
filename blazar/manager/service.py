"""blazar-manager: the RPC endpoint the API calls, the plugins, the event loop."""
import datetime
import functools
import logging
import threading

from oslo_config import cfg
from oslo_db import exception as db_exc
import oslo_messaging as messaging
from oslo_utils import timeutils
from sqlalchemy import exc as sa_exc

from blazar import context as blazar_context
from blazar import deferred
from blazar import exceptions
from blazar import plugins as plugin_loader
from blazar import rpc
from blazar.db import api as db_api
from blazar.manager import availability
from blazar.manager import converger
from blazar.manager import events
from blazar.manager import healing
from blazar.manager import leases
from blazar.manager import monitors
from blazar.manager import sweeper
from blazar.utils import dates

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
HOST_TYPE = 'physical:host'
FIP_TYPE = 'virtual:floatingip'
# Seconds between two prunings of the calendar change log (it keeps the
# last db_api.CALENDAR_CHANGES_KEPT generations: blazar/db/api/calendar.py).
CALENDAR_PRUNE_INTERVAL = 600


def _rpc_method(func):
    """Errors the caller should see as such travel as Blazar exceptions
    without a server-side traceback; database trouble becomes a clear 503
    or 500 message instead of leaking driver details."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except exceptions.BlazarException:
            raise messaging.ExpectedException()
        except (db_exc.DBConnectionError, sa_exc.OperationalError) as exc:
            # oslo.db does not recognise every driver's words for a server
            # that is down (libpq 15: "connection to server ... failed:
            # Connection refused"): such errors arrive untranslated.
            LOG.warning('Database unavailable in %s: %s', func.__name__, exc)
            try:
                raise exceptions.DatabaseUnavailable(reason='connection lost')
            except exceptions.BlazarException:
                raise messaging.ExpectedException()
        except db_exc.DBError:
            LOG.exception('Database error in %s', func.__name__)
            try:
                raise exceptions.BlazarException('A database error occurred')
            except exceptions.BlazarException:
                raise messaging.ExpectedException()
    return wrapper


class ManagerEndpoint:
    """The manager's RPC surface; each method hands over to its owner."""

    target = messaging.Target(version=rpc.RPC_VERSION)

    def __init__(self, lease_service, plugins, healer=None):
        self.leases = lease_service
        self.plugins = plugins
        self.availability = availability.AvailabilityService(plugins)
        self.healer = healer or healing.Healer(plugins)

    def _hosts(self):
        return plugin_loader.get(self.plugins, HOST_TYPE)

    def _fips(self):
        return plugin_loader.get(self.plugins, FIP_TYPE)

    # leases
    @_rpc_method
    def get_lease(self, context, lease_id):
        return self.leases.get(context, lease_id)

    @_rpc_method
    def list_leases(self, context, project_id=None, filters=None, page=None):
        return self.leases.list(context, project_id, filters=filters, page=page)

    @_rpc_method
    def create_lease(self, context, values):
        return self.leases.create(context, values)

    @_rpc_method
    def update_lease(self, context, lease_id, values, owner=None):
        return self.leases.update(context, lease_id, values, owner=owner)

    @_rpc_method
    def delete_lease(self, context, lease_id, owner=None):
        self.leases.delete(context, lease_id, owner=owner)

    # hosts
    @_rpc_method
    def list_hosts(self, context, filters=None, page=None):
        return self._hosts().list_hosts(context, filters=filters, page=page)

    @_rpc_method
    def get_host(self, context, host_id):
        return self._hosts().get_host(context, host_id)

    @_rpc_method
    def create_host(self, context, values):
        return self._hosts().create_host(context, values)

    @_rpc_method
    def update_host(self, context, host_id, values):
        return self._hosts().update_host(context, host_id, values)

    @_rpc_method
    def delete_host(self, context, host_id):
        self._hosts().delete_host(context, host_id)

    @_rpc_method
    def list_host_allocations(self, context, lease_id=None, reservation_id=None,
                              window=None, host_id=None, page=None):
        return self._hosts().list_allocations(
            context, lease_id=lease_id, reservation_id=reservation_id,
            window=dates.parse_window(window), host_id=host_id, page=page)

    @_rpc_method
    def get_host_allocation(self, context, host_id, lease_id=None, reservation_id=None):
        host = self._hosts().get_host(context, host_id)
        return self._hosts().list_allocations(
            context, host_ids=[host['id']], lease_id=lease_id,
            reservation_id=reservation_id)[0]

    # floating IPs
    @_rpc_method
    def list_floatingips(self, context):
        return self._fips().list_floatingips(context)

    @_rpc_method
    def get_floatingip(self, context, floatingip_id):
        return self._fips().get_floatingip(context, floatingip_id)

    @_rpc_method
    def create_floatingip(self, context, values):
        return self._fips().create_floatingip(context, values)

    @_rpc_method
    def delete_floatingip(self, context, floatingip_id):
        self._fips().delete_floatingip(context, floatingip_id)

    # host health (blazar/manager/healing.py)
    @_rpc_method
    def set_host_maintenance(self, context, host_id, values=None):
        return self.healer.start_maintenance(context, host_id, values or {})

    @_rpc_method
    def clear_host_maintenance(self, context, host_id):
        return self.healer.end_maintenance(context, host_id)

    @_rpc_method
    def reallocate_host(self, context, host_id, lease_id=None, reservation_id=None):
        return self.healer.reallocate(context, host_id, lease_id=lease_id,
                                      reservation_id=reservation_id)

    @_rpc_method
    def list_resource_properties(self, context, resource_type, detail=False,
                                 include_private=False):
        plugin = plugin_loader.get(self.plugins, resource_type)
        return plugin.list_resource_properties(context, detail=detail,
                                               include_private=include_private)

    @_rpc_method
    def update_resource_property(self, context, resource_type, name, values):
        plugin = plugin_loader.get(self.plugins, resource_type)
        return plugin.update_resource_property(context, name, values)

    # availability, calendar, usage (blazar/manager/availability.py)
    @_rpc_method
    def get_availability(self, context, resource_type=None, start_date='now',
                         end_date=None, params=None):
        return self.availability.how_many(context, resource_type, start_date,
                                          end_date, params)

    @_rpc_method
    def get_availability_duration(self, context, resource_type=None,
                                  start_date='now', count=None, params=None):
        return self.availability.how_long(context, resource_type, start_date,
                                          count, params)

    @_rpc_method
    def list_offerings(self, context, resource_type=None, count=None,
                       duration=None, earliest_start=None, latest_end=None,
                       limit=None, params=None, name=None):
        return self.availability.offerings(
            context, resource_type, count, duration, earliest_start,
            latest_end, limit, params, name)

    @_rpc_method
    def get_calendar(self, context, resource_type=None, start_date='now',
                     end_date=None, params=None, detail=False, page=None):
        return self.availability.calendar(context, resource_type, start_date,
                                          end_date, params, detail, page=page)

    @_rpc_method
    def get_usage(self, context, start_date=None, end_date=None, project_id=None):
        return self.availability.usage(context, start_date, end_date, project_id)

    @_rpc_method
    def list_preemptions(self, context, lease_id=None, reservation_id=None,
                         project_id=None, page=None):
        return self.leases.reaper.list(context, lease_id=lease_id,
                                       reservation_id=reservation_id,
                                       project_id=project_id, page=page)


class ManagerService:
    """Owns the plugins, the lease service, the RPC server, the event loop,
    the converger (with its periodic sweeps), the deferred calls, and the
    host monitors with the healing worker."""

    def __init__(self):
        self.plugins = plugin_loader.load(CONF.manager.plugins)
        self.converger_worker = None
        self.event_loop = None
        self.healing_worker = None
        self.deferred_worker = deferred.DeferredWorker()
        self.leases = leases.LeaseService(self.plugins, on_change=self._wake)
        self.lifecycle = self.leases.lifecycle
        self.event_loop = events.EventLoop(self.leases)
        self.converger = converger.Converger(self.plugins, self.lifecycle,
                                             pre_steps=self.leases.start_steps)
        self.sweeper = sweeper.Sweeper(self.plugins)
        self.converger_worker = converger.ConvergerWorker(self.converger, periodic=[
            converger.Periodic('adoption of reservations without intent',
                               lambda: CONF.manager.reconcile_interval or 3600,
                               self.lifecycle.adopt),
            converger.Periodic('resync of settled intents',
                               lambda: CONF.manager.reconcile_interval, self._resync,
                               first_delay=CONF.manager.reconcile_interval),
            converger.Periodic('freepool check', lambda: CONF.manager.reconcile_interval,
                               self.sweeper.freepool),
            converger.Periodic('orphan collection', lambda: CONF.manager.orphan_interval,
                               self.sweeper.orphans),
            converger.Periodic('calendar change log pruning',
                               lambda: CALENDAR_PRUNE_INTERVAL,
                               db_api.calendar_changes_prune),
        ])
        self.healer = healing.Healer(self.plugins, self.lifecycle, on_change=self._wake)
        self.healing_worker = healing.HealingWorker(self.healer)
        self.monitors = monitors.Monitors(on_change=self.healing_worker.request)
        self.endpoint = ManagerEndpoint(self.leases, self.plugins, self.healer)
        self.server = None

    @staticmethod
    def _resync(context):
        interval = CONF.manager.reconcile_interval
        before = timeutils.utcnow() - datetime.timedelta(seconds=interval)
        db_api.intents_resync(context, before, limit=1000)

    def _wake(self):
        if self.event_loop is not None:
            self.event_loop.wake()
        if self.converger_worker is not None:
            self.converger_worker.wake()
        self.deferred_worker.notice_change()
        if self.healing_worker is not None:
            self.healing_worker.notice_lease_change()

    def start(self):
        self.server = rpc.get_server(CONF.manager.rpc_topic, CONF.host, [self.endpoint])
        self.server.start()
        self.deferred_worker.start()
        self.converger_worker.start()
        self.event_loop.start()
        self.healing_worker.start()
        self.monitors.start()
        LOG.info('blazar-manager %s serving topic %s with plugins %s', CONF.host,
                 CONF.manager.rpc_topic, ', '.join(sorted(self.plugins)))

    def pause(self):
        """Finish the work under way (cloud steps, due events, healing) and
        take no more: tests switch the store between two of them, and a
        transaction astride the switch would wait forever for its own
        rows."""
        self.converger_worker.pause()
        self.deferred_worker.pause()
        self.event_loop.pause()
        self.healing_worker.pause()

    def resume(self):
        self.converger_worker.resume()
        self.deferred_worker.resume()
        self.event_loop.resume()
        self.healing_worker.resume()

    def stop(self, deadline=None):
        """Stop taking work, finish what is under way, and let go of every
        claim so that another manager carries on at once. ``deadline``
        (blazar.launcher.Deadline) bounds the wait for the work under way
        (``graceful_shutdown_timeout``); what is not finished by then is
        released all the same, and done again by whichever manager claims
        it next (cloud steps are idempotent)."""
        def left():
            return 10 if deadline is None else deadline.left(floor=0.1)

        self.monitors.stop()
        self.healing_worker.stop(left())
        if self.server is not None:
            self.server.stop()
        if self.event_loop is not None:
            self.event_loop.stop(left())
        self.converger_worker.stop(left())
        self.deferred_worker.stop(left())
        if self.server is not None:
            # RPC calls under way finish (bounded as the rest).
            waiter = threading.Thread(target=self.server.wait, daemon=True)
            waiter.start()
            waiter.join(left())
        self.release_claims()

    def release_claims(self):
        """Every claim this manager holds goes back to the store's pool: the
        intents, the deferred calls and the before-end actions (events back
        to UNDONE)."""
        context = blazar_context.get_admin_context()
        try:
            db_api.intents_release_all(context, self.converger.owner)
            released = db_api.events_release_all(context, CONF.host)
        except Exception:  # noqa: BLE001  the store may be gone at exit
            LOG.warning('Could not release the claims of %s', CONF.host, exc_info=True)
            return
        if released:
            LOG.info('Released %d event(s) still under way', released)
