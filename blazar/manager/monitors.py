"""Host monitoring: notice when Nova's compute service of an enrolled host
fails or comes back, and mark the host accordingly.

Two monitors, each optional (``[physical:host]``), both feeding the same
transitions (:class:`HostHealth`):

* the notification monitor listens to Nova's versioned notifications
  ``service.update`` (a service disabled, forced down, or brought back) in
  a listener pool of its own, so it takes no message from other consumers;
* the polling monitor asks the compute services API every
  ``polling_interval`` seconds (and also sees a compute that silently
  stopped reporting, which sends no notification).

Hosts are matched on the compute service host Nova reports, our
``service_name``. A transition is a conditional change in the store under
the allocation lock: a host already failed is not failed again, so both
monitors may run together without double work. A failure makes the host
unreservable (``failure_reason`` says why) and a recovery reservable again
(unless it is in maintenance); each is notified (``host.failed``,
``host.recovered``) and asks the healing worker for a pass.
"""
import logging

from oslo_config import cfg
import oslo_messaging as messaging
from oslo_utils import timeutils

from blazar import context as blazar_context
from blazar import exceptions
from blazar import rpc
from blazar.clients import nova
from blazar.db import api as db_api
from blazar.utils import worker

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
GROUP = 'physical:host'
COMPUTE_BINARY = 'nova-compute'


def service_failure(disabled=False, disabled_reason=None, forced_down=False,
                    down=False):
    """Why a compute service cannot serve reservations, or None if it can.
    One cause, the most deliberate first, so that both monitors word the
    same state the same way."""
    if forced_down:
        return 'nova-compute is forced down'
    if disabled:
        return 'nova-compute is disabled' + (': %s' % disabled_reason
                                             if disabled_reason else '')
    if down:
        return 'nova-compute is down (not reporting)'
    return None


class HostHealth:
    """Record what the monitors see; ``on_change()`` after a transition."""

    def __init__(self, on_change=None):
        self.on_change = on_change or (lambda: None)

    def report(self, context, verdicts):
        """``verdicts``: ``{compute service host: failure reason or None}``.
        Returns ``(newly failed ids, newly recovered ids)``."""
        hosts = db_api.host_health_list(context)
        failed, recovered = {}, []
        for host in hosts:
            if host['service_name'] not in verdicts:
                continue
            reason = verdicts[host['service_name']]
            if reason is not None and reason != host['failure_reason']:
                failed[host['id']] = reason
            elif reason is None and host['failure_reason'] is not None:
                recovered.append(host['id'])
        if not failed and not recovered:
            return [], []
        now = timeutils.utcnow()
        with db_api.transaction(context):
            db_api.allocation_lock(context)
            newly_failed = db_api.hosts_mark_failed(context, failed, now)
            newly_recovered = db_api.hosts_mark_recovered(context, recovered, now)
        by_id = {h['id']: h for h in hosts}
        for host_id in newly_failed:
            LOG.warning('Host %s (%s) failed: %s', host_id,
                        by_id[host_id]['hypervisor_hostname'], failed[host_id])
            self._notify(context, 'host.failed', by_id[host_id], failed[host_id])
        for host_id in newly_recovered:
            LOG.info('Host %s (%s) recovered', host_id,
                     by_id[host_id]['hypervisor_hostname'])
            self._notify(context, 'host.recovered', by_id[host_id], None)
        if newly_failed or newly_recovered:
            self.on_change()
        return newly_failed, newly_recovered

    @staticmethod
    def _notify(context, event_type, host, reason):
        rpc.notify(context, event_type, {
            'id': str(host['id']), 'hypervisor_hostname': host['hypervisor_hostname'],
            'service_name': host['service_name'], 'failure_reason': reason})


class PollingMonitor:
    """Every ``polling_interval`` seconds, one call to Nova's compute
    services API for every host."""

    def __init__(self, health):
        self.health = health
        self._context = blazar_context.get_admin_context()
        self._worker = worker.Worker('blazar-polling', self._step)

    def poll(self, context):
        """One look at Nova; the transitions made (see HostHealth.report).
        A host whose service Nova does not list is left as it is."""
        services = nova.get_client().list_services(binary=COMPUTE_BINARY)
        verdicts = {s['host']: service_failure(
            disabled=s['status'] == 'disabled', disabled_reason=s['disabled_reason'],
            forced_down=bool(s.get('forced_down')), down=s['state'] != 'up')
            for s in services}
        return self.health.report(context, verdicts)

    def start(self):
        self._worker.start()

    def stop(self, timeout=10):
        self._worker.stop(timeout)

    def _step(self):
        try:
            self.poll(self._context)
        except exceptions.BlazarException as exc:
            LOG.warning('Polling monitor: %s; next poll in %ss', exc.message,
                        CONF[GROUP].polling_interval)
        except Exception:
            LOG.exception('Polling monitor failed; next poll in %ss',
                          CONF[GROUP].polling_interval)
        return CONF[GROUP].polling_interval


class ServiceUpdateEndpoint:
    """Handles Nova's versioned ``service.update`` notifications."""

    filter_rule = messaging.NotificationFilter(event_type=r'^service\.update$')

    def __init__(self, health):
        self.health = health

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        data = (payload or {}).get('nova_object.data') or {}
        if data.get('binary') != COMPUTE_BINARY or not data.get('host'):
            return messaging.NotificationResult.HANDLED
        verdict = service_failure(disabled=bool(data.get('disabled')),
                                  disabled_reason=data.get('disabled_reason'),
                                  forced_down=bool(data.get('forced_down')))
        try:
            self.health.report(blazar_context.get_admin_context(),
                               {data['host']: verdict})
        except Exception:
            LOG.exception('Notification monitor: could not record %s of %s',
                          event_type, data['host'])
        return messaging.NotificationResult.HANDLED


def _is_fake(transport_conf):
    url = (transport_conf.oslo_messaging_notifications.transport_url
           or transport_conf.transport_url or '')
    return url.startswith('fake')


class NotificationMonitor:
    """An oslo.messaging notification listener in its own pool."""

    def __init__(self, health):
        self.health = health
        self.listener = None
        self.transport = None

    def start(self):
        opts = CONF[GROUP]
        self.transport = messaging.get_notification_transport(CONF)
        targets = [messaging.Target(topic=topic, exchange=opts.notification_exchange)
                   for topic in opts.notification_topics]
        self.listener = messaging.get_notification_listener(
            self.transport, targets, [ServiceUpdateEndpoint(self.health)],
            executor='threading', pool=opts.notification_pool)
        self.listener.start()
        LOG.info('Notification monitor listening on %s (exchange %s, pool %s)',
                 ', '.join(opts.notification_topics), opts.notification_exchange,
                 opts.notification_pool)

    def stop(self):
        if self.listener is not None:
            self.listener.stop()
            self.listener.wait()
            self.listener = None
        if self.transport is not None:
            # The fake driver's cleanup empties every in-process exchange,
            # RPC included: leave it to rpc.cleanup().
            if not _is_fake(CONF):
                self.transport.cleanup()
            self.transport = None


class Monitors:
    """The monitors ``[physical:host]`` enables, started and stopped with
    the manager."""

    def __init__(self, on_change=None):
        self.health = HostHealth(on_change)
        self.running = []

    def start(self):
        opts = CONF[GROUP]
        if opts.enable_notification_monitor:
            self.running.append(NotificationMonitor(self.health))
        if opts.enable_polling_monitor:
            self.running.append(PollingMonitor(self.health))
        for monitor in self.running:
            monitor.start()

    def stop(self):
        while self.running:
            self.running.pop().stop()
