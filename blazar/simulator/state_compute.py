"""Hypervisors, compute services, availability zones and aggregates.

Part of ``state.Cloud`` (split out to keep modules small).  A hypervisor's
state and status are not stored: they follow its nova-compute service, as
in Nova, so failing a service is enough to fail the host everywhere.
"""
import logging
import uuid

from blazar.simulator import errors
from blazar.simulator import model

LOG = logging.getLogger(__name__)


def _is_uuid(value):
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _tracked(service):
    """What Nova's versioned service.update notification is sent for."""
    return (service.status, service.disabled_reason, service.forced_down)


class ComputeMixin:

    # --- service.update listeners ------------------------------------------
    def on_service_update(self, callback):
        """Call ``callback(service dict)`` each time a compute service is
        disabled or enabled, forced down or back (Nova then sends its
        versioned ``service.update`` notification; a service that merely
        stops reporting sends none). ``blazar.simulator.notifications``
        publishes them."""
        self.__dict__.setdefault('_service_listeners', []).append(callback)

    def _service_updated(self, service):
        for callback in list(self.__dict__.get('_service_listeners', ())):
            try:
                callback(service)
            except Exception:
                LOG.exception('service.update listener failed for %s',
                              service['host'])

    # --- hypervisors -----------------------------------------------------
    def _hyp_dict(self, hyp, with_servers=False):
        service = self.services[hyp.service_host]
        used = self._usage(hyp)
        data = self._copy(
            hyp, state='up' if service.up else 'down',
            status=service.status,
            vcpus_used=used['vcpus'], memory_mb_used=used['ram'],
            local_gb_used=used['disk'], running_vms=used['count'],
            service={'host': service.host, 'id': service.id,
                     'int_id': service.int_id,
                     'disabled_reason': service.disabled_reason})
        if with_servers:
            data['servers'] = [
                {'uuid': s.id, 'name': s.name}
                for s in self.servers.values()
                if s.consumes and s.node == hyp.hypervisor_hostname]
        return data

    def list_hypervisors(self, pattern=None, with_servers=False):
        """All hypervisors, or those whose hostname contains ``pattern``.

        Nova matches the pattern as SQL ``LIKE %pattern%`` and answers 404
        when nothing matches.
        """
        with self._lock:
            self._reap()
            found = [h for h in self.hypervisors
                     if pattern is None or pattern in h.hypervisor_hostname]
            if pattern is not None and not found:
                raise errors.NotFound(
                    "No hypervisor matching '%s' could be found." % pattern)
            return [self._hyp_dict(h, with_servers) for h in found]

    def get_hypervisor(self, ref, with_servers=False):
        """By UUID or, for microversions < 2.53, by legacy integer id."""
        with self._lock:
            self._reap()
            for hyp in self.hypervisors:
                if ref in (hyp.id, str(hyp.int_id)):
                    return self._hyp_dict(hyp, with_servers)
            raise errors.NotFound(
                'Hypervisor with ID %s could not be found.' % ref)

    # --- services --------------------------------------------------------
    def _service_dict(self, service):
        return self._copy(service, state='up' if service.up else 'down',
                          zone=','.join(self.host_zones(service.host)))

    def list_services(self, host=None, binary=None):
        with self._lock:
            return [self._service_dict(s) for s in self.services.values()
                    if (host is None or s.host == host)
                    and (binary is None or s.binary == binary)]

    def _find_service(self, ref):
        for service in self.services.values():
            if ref in (service.id, str(service.int_id)):
                return service
        raise errors.NotFound('Service %s not found.' % ref)

    def update_service(self, ref, status=None, disabled_reason=None,
                       forced_down=None):
        """Enable/disable or force down a service (by id, or by host)."""
        with self._lock:
            if ref in self.services:
                service = self.services[ref]
            else:
                service = self._find_service(ref)
            before = _tracked(service)
            if status is not None:
                if status not in ('enabled', 'disabled'):
                    raise errors.BadRequest('Invalid status %r' % status)
                service.status = status
                service.disabled_reason = (disabled_reason
                                           if status == 'disabled' else None)
            if forced_down is not None:
                service.forced_down = bool(forced_down)
            service.updated_at = model.now()
            result = self._service_dict(service)
            changed = _tracked(service) != before
        if changed:
            self._service_updated(result)
        return result

    def fail_host(self, host, mode='down', reason=None):
        """Make a compute host look broken, the way ``mode`` says.

        ``down``: its nova-compute stops reporting (state down);
        ``forced_down``: an operator fenced it; ``disabled``: an operator
        disabled it (status disabled).  Monitoring code reads these; the
        last two also tell the ``on_service_update`` listeners (Nova's
        ``service.update``), ``down`` does not, as in Nova.
        """
        with self._lock:
            service = self._service(host)
            before = _tracked(service)
            if mode == 'down':
                service.alive = False
            elif mode == 'forced_down':
                service.forced_down = True
            elif mode == 'disabled':
                service.status = 'disabled'
                service.disabled_reason = reason
            else:
                raise ValueError('unknown failure mode %r' % mode)
            service.updated_at = model.now()
            result = self._service_dict(service)
            changed = _tracked(service) != before
        if changed:
            self._service_updated(result)
        return result

    def recover_host(self, host):
        """Undo every kind of ``fail_host``."""
        with self._lock:
            service = self._service(host)
            before = _tracked(service)
            service.alive = True
            service.forced_down = False
            service.status = 'enabled'
            service.disabled_reason = None
            service.updated_at = model.now()
            result = self._service_dict(service)
            changed = _tracked(service) != before
        if changed:
            self._service_updated(result)
        return result

    # --- availability zones ----------------------------------------------
    def list_zones(self):
        """``[{name, available, hosts: {host: service dict}}]``."""
        with self._lock:
            zones = {}
            for host, service in self.services.items():
                for zone in self.host_zones(host):
                    entry = zones.setdefault(zone, {'name': zone,
                                                    'available': False,
                                                    'hosts': {}})
                    entry['available'] |= service.enabled
                    entry['hosts'][host] = self._service_dict(service)
            return [zones[name] for name in sorted(zones)]

    # --- aggregates ------------------------------------------------------
    def _aggregate(self, agg_id):
        agg = self.aggregates.get(agg_id)
        if agg is None:
            try:
                agg = self.aggregates.get(int(agg_id))
            except (TypeError, ValueError):
                agg = None
        if agg is None:
            raise errors.NotFound('Aggregate %s could not be found.'
                                  % agg_id)
        return agg

    def _agg_dict(self, agg):
        data = self._copy(agg)
        if agg.availability_zone:
            data['metadata']['availability_zone'] = agg.availability_zone
        return data

    def list_aggregates(self):
        with self._lock:
            return [self._agg_dict(a) for a in self.aggregates.values()]

    def get_aggregate(self, agg_id):
        with self._lock:
            return self._agg_dict(self._aggregate(agg_id))

    def _check_name(self, name, exclude=None):
        if not name or not str(name).strip() or len(name) > 255:
            raise errors.BadRequest('Invalid aggregate name %r' % name)
        for agg in self.aggregates.values():
            if agg.name == name and agg is not exclude:
                raise errors.Conflict('Aggregate %s already exists.' % name)

    def _check_zone(self, agg, zone, hosts, error=errors.BadRequest):
        """Nova: a host may not sit in two different zones at once (a 409
        when adding the host, a 400 when changing the aggregate's zone)."""
        if zone is None:
            return
        if ':' in zone or zone == 'internal':
            raise errors.BadRequest('Invalid availability zone %r' % zone)
        for other in self.aggregates.values():
            if (other is not agg and other.availability_zone
                    and other.availability_zone != zone
                    and set(other.hosts) & set(hosts)):
                raise error(
                    'Cannot add host to aggregate %s. Reason: One or more '
                    'hosts already in availability zone(s) [%r].'
                    % (agg.id if agg else zone, other.availability_zone))

    def create_aggregate(self, name, availability_zone=None):
        with self._lock:
            self._check_name(name)
            self._check_zone(None, availability_zone, [])
            agg = model.Aggregate(name=name, id=next(self._ids),
                                  availability_zone=availability_zone)
            self.aggregates[agg.id] = agg
            return self._agg_dict(agg)

    def update_aggregate(self, agg_id, **values):
        with self._lock:
            agg = self._aggregate(agg_id)
            if 'name' in values:
                self._check_name(values['name'], exclude=agg)
            if 'availability_zone' in values:
                self._check_zone(agg, values['availability_zone'], agg.hosts)
            for key in ('name', 'availability_zone'):
                if key in values:
                    setattr(agg, key, values[key])
            agg.updated_at = model.now()
            return self._agg_dict(agg)

    def delete_aggregate(self, agg_id):
        with self._lock:
            agg = self._aggregate(agg_id)
            if agg.hosts:
                raise errors.BadRequest(    # Nova's wording, 'host' and all
                    'Cannot remove host from aggregate %s. Reason: Host '
                    'aggregate is not empty.' % agg.id)
            del self.aggregates[agg.id]

    def aggregate_add_host(self, agg_id, host):
        with self._lock:
            agg = self._aggregate(agg_id)
            self._service(host)
            if host in agg.hosts:
                raise errors.Conflict('Aggregate %s already has host %s.'
                                      % (agg.id, host))
            self._check_zone(agg, agg.availability_zone, [host],
                             error=errors.Conflict)
            agg.hosts.append(host)
            agg.updated_at = model.now()
            return self._agg_dict(agg)

    def aggregate_remove_host(self, agg_id, host):
        with self._lock:
            self._reap()
            agg = self._aggregate(agg_id)
            self._service(host)
            if host not in agg.hosts:
                raise errors.NotFound('Cannot remove host %s in aggregate '
                                      '%s' % (host, agg.id))
            if agg.availability_zone and any(
                    s.host == host for s in self.servers.values()):
                # Nova >= 2023.2 refuses to move hosted servers across zones.
                raise errors.Conflict(
                    'Cannot remove host %s from aggregate %s: the host has '
                    'instances and the aggregate has an availability zone.'
                    % (host, agg.id))
            agg.hosts.remove(host)
            agg.updated_at = model.now()
            return self._agg_dict(agg)

    def aggregate_set_metadata(self, agg_id, metadata):
        """Merge ``metadata`` (a None value deletes the key), as Nova."""
        with self._lock:
            agg = self._aggregate(agg_id)
            metadata = dict(metadata)
            if 'availability_zone' in metadata:
                zone = metadata.pop('availability_zone')
                self._check_zone(agg, zone, agg.hosts)
                agg.availability_zone = zone
            for key, value in metadata.items():
                if value is None:
                    agg.metadata.pop(key, None)
                else:
                    agg.metadata[key] = str(value)
            agg.updated_at = model.now()
            return self._agg_dict(agg)
