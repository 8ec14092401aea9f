"""Servers, server groups and the images snapshots create.

Part of ``state.Cloud``.  A boot goes through ``scheduler`` right away;
when no host passes, the server still exists, in ERROR with Nova's
NoValidHost fault, exactly what Blazar sees on a real cloud.
"""
import re
import time

from oslo_utils import strutils

from blazar.simulator import errors
from blazar.simulator import model
from blazar.simulator import scheduler as sched

GROUP_POLICIES = ('affinity', 'anti-affinity', 'soft-affinity',
                  'soft-anti-affinity')
FORCED_HOST_POLICY = ("Policy doesn't allow os_compute_api:servers:create:"
                      "forced_host to be performed.")


def _fault(message, code=500):
    return {'code': code, 'message': message,
            'created': model.iso(model.now(), micro=False)}


class ServersMixin:

    # --- server groups ---------------------------------------------------
    def create_server_group(self, caller, name, policy, rules=None):
        with self._lock:
            rules = dict(rules or {})
            if policy not in GROUP_POLICIES:
                raise errors.BadRequest('Invalid server group policy %r'
                                        % policy)
            if rules and (policy != 'anti-affinity'
                          or set(rules) != {'max_server_per_host'}
                          or int(rules['max_server_per_host']) < 1):
                raise errors.BadRequest('Invalid server group rules %r'
                                        % rules)
            group = model.ServerGroup(name=name, policy=policy, rules=rules,
                                      project_id=caller.project_id,
                                      user_id=caller.user_id)
            self.server_groups[group.id] = group
            return self._copy(group)

    def _group(self, caller, group_id):
        group = self.server_groups.get(group_id)
        if group is None or not (caller.is_admin
                                 or group.project_id == caller.project_id):
            raise errors.NotFound('Instance group %s could not be found.'
                                  % group_id)
        return group

    def list_server_groups(self, caller, all_projects=False):
        with self._lock:
            self._reap()
            return [self._copy(g) for g in self.server_groups.values()
                    if (all_projects and caller.is_admin)
                    or g.project_id == caller.project_id]

    def get_server_group(self, caller, group_id):
        with self._lock:
            self._reap()
            return self._copy(self._group(caller, group_id))

    def delete_server_group(self, caller, group_id):
        with self._lock:
            self._group(caller, group_id)
            del self.server_groups[group_id]

    # --- servers ---------------------------------------------------------
    def _server(self, caller, server_id):
        server = self.servers.get(server_id)
        if server is None or not (caller.is_admin
                                  or server.project_id == caller.project_id):
            raise errors.NotFound('Instance %s could not be found.'
                                  % server_id)
        return server

    def _server_dict(self, server):
        host_status = ''
        if server.host:
            service = self.services.get(server.host)
            if service is None or not service.up:
                host_status = 'DOWN'
            elif not service.enabled:
                host_status = 'MAINTENANCE'
            else:
                host_status = 'UP'
        zone = (','.join(self.host_zones(server.host)) if server.host
                else server.availability_zone or '')
        groups = [server.group_id] if server.group_id in self.server_groups \
            else []
        return self._copy(server, host_status=host_status, zone=zone,
                          server_groups=groups, vm_state=server.vm_state,
                          power_state=server.power_state)

    def _parse_zone(self, caller, availability_zone):
        """'az', 'az:host' or 'az:host:node' -> (zone, host, node)."""
        if not availability_zone:
            return None, None, None
        parts = availability_zone.split(':', 2) + [None, None]
        zone, host, node = (p or None for p in parts[:3])
        if (host or node) and not caller.is_admin:
            raise errors.Forbidden(FORCED_HOST_POLICY)
        if zone and not (host or node) and zone not in self.available_zones():
            raise errors.BadRequest(
                'The requested availability zone is not available')
        return zone, host, node

    def _spec(self, server, group):
        return sched.RequestSpec(
            project_id=server.project_id, flavor=server.flavor,
            hints=server.scheduler_hints,
            availability_zone=server.availability_zone,
            requested_host=server.requested_host,
            forced_host=server.forced_host,
            forced_node=server.forced_node,
            group_policy=group.policy if group else None,
            group_rules=dict(group.rules) if group else {},
            group_hosts=[self.servers[m].host for m in
                         (group.members if group else [])
                         if m in self.servers and self.servers[m].host
                         and m != server.id])

    def create_servers(self, caller, name, flavor_id, image_id=None,
                       min_count=1, max_count=1, availability_zone=None,
                       scheduler_hints=None, host=None, node=None,
                       metadata=None, description=None):
        """Boot ``max_count`` servers (all placed, or all in ERROR)."""
        with self._lock:
            self._reap()
            try:
                flavor = self._flavor(flavor_id, caller)
            except errors.NotFound as exc:
                raise errors.BadRequest(exc.message)
            hints = dict(scheduler_hints or {})
            zone, forced_host, forced_node = self._parse_zone(
                caller, availability_zone)
            if (host or node) and not caller.is_admin:
                raise errors.Forbidden(
                    "Policy doesn't allow compute:servers:create:"
                    "requested_destination to be performed.")
            if host and host not in self.services:
                raise errors.BadRequest('Compute host %s could not be found.'
                                        % host)
            if node and node not in {h.hypervisor_hostname
                                     for h in self.hypervisors}:
                raise errors.BadRequest('Compute host %s could not be found.'
                                        % node)
            group = None
            if hints.get('group'):
                # As Nova: a project may only boot into its own groups (an
                # admin into any); others get the same 400 as a wrong id.
                try:
                    group = self._group(caller, hints['group'])
                except errors.NotFound as exc:
                    raise errors.BadRequest(exc.message)
            if max_count < min_count or min_count < 1:
                raise errors.BadRequest('min_count must be <= max_count')
            reservation_id = 'r-' + model.new_uuid()[:8]
            servers = []
            for index in range(max_count):
                servers.append(model.Server(
                    name=name if max_count == 1 else '%s-%d' % (name,
                                                                index + 1),
                    project_id=caller.project_id, user_id=caller.user_id,
                    flavor=flavor.snapshot(), image_id=image_id,
                    availability_zone=zone, scheduler_hints=hints,
                    requested_host=host, forced_host=forced_host,
                    forced_node=forced_node,
                    group_id=group.id if group else None,
                    metadata=dict(metadata or {}), description=description,
                    reservation_id=reservation_id, launch_index=index))
            spec = self._spec(servers[0], group)
            spec.requested_node = node
            pending, claimed = iter(servers), []

            def claim(host_state):
                server = next(pending)
                self._claim(server, host_state)
                claimed.append(server)
            chosen = self.scheduler.select_many(
                spec, lambda: self._host_states(spec), max_count, self.pools,
                claim=claim)
            if chosen is None:
                for server in claimed:      # all or nothing, as Nova
                    self._release(server)
            for index, server in enumerate(servers):
                if chosen is None:
                    server.status = 'ERROR'
                    server.fault = _fault(sched.NO_VALID_HOST)
                else:
                    self._place(server, chosen[index])
                self.servers[server.id] = server
                if group:
                    group.members.append(server.id)
            return [self._server_dict(s) for s in servers]

    @staticmethod
    def _place(server, host_state):
        server.host = host_state.host
        server.node = host_state.node
        server.status = 'ACTIVE'
        server.fault = None
        server.launched_at = server.updated_at = model.now()

    def list_servers(self, caller, filters=None):
        """Nova's list filters: all_tenants, project_id, host, node, flavor,
        name (regex), status, image, reservation_id; newest first."""
        with self._lock:
            self._reap()
            filters = dict(filters or {})
            all_tenants = 'all_tenants' in filters and (
                filters['all_tenants'] in ('', None)
                or _bool(filters['all_tenants']))
            if all_tenants and not caller.is_admin:
                raise errors.Forbidden(
                    "Policy doesn't allow os_compute_api:servers:index:"
                    "get_all_tenants to be performed.")
            project = filters.get('project_id') or filters.get('tenant_id')
            if not all_tenants or not caller.is_admin:
                project = caller.project_id
            if not caller.is_admin:
                filters.pop('host', None)
                filters.pop('node', None)
            found = []
            for server in reversed(list(self.servers.values())):
                if project and server.project_id != project:
                    continue
                if not _matches(server, filters):
                    continue
                found.append(server)
            return [self._server_dict(s) for s in found]

    def get_server(self, caller, server_id):
        with self._lock:
            self._reap()
            return self._server_dict(self._server(caller, server_id))

    def delete_server(self, caller, server_id):
        with self._lock:
            self._reap()
            server = self._server(caller, server_id)
            if self.delete_delay <= 0:
                self._forget_server(server)
            elif server.delete_at is None:
                server.delete_at = time.monotonic() + self.delete_delay
                server.task_state = 'deleting'

    def server_action(self, caller, server_id, action, args):
        """One ``POST /servers/{id}/action``; returns the response body."""
        with self._lock:
            self._reap()
            server = self._server(caller, server_id)
            handler = _ACTIONS.get(action)
            if handler is None:
                raise errors.BadRequest('There is no such action: %s'
                                        % action)
            allowed, method = handler
            if allowed is not None and server.status not in allowed:
                raise errors.Conflict(
                    "Cannot '%s' instance %s while it is in vm_state %s"
                    % (action, server.id, server.vm_state))
            if server.task_state == 'deleting':
                raise errors.Conflict(
                    "Cannot '%s' instance %s while it is in task_state "
                    "deleting" % (action, server.id))
            result = getattr(self, method)(caller, server, args or {})
            server.updated_at = model.now()
            return result

    def _act_create_image(self, caller, server, args):
        if not args.get('name'):
            raise errors.BadRequest("'name' is a required property")
        image = model.Image(name=args['name'], server_id=server.id,
                            project_id=caller.project_id,
                            metadata=dict(args.get('metadata') or {}))
        self.images[image.id] = image
        return {'image_id': image.id}

    def _act_stop(self, caller, server, args):
        server.status = 'SHUTOFF'

    def _act_start(self, caller, server, args):
        server.status = 'ACTIVE'

    def _act_reboot(self, caller, server, args):
        server.status = 'ACTIVE'

    def _act_shelve(self, caller, server, args):
        # Nova's default shelved_offload_time = 0: offload at once, which
        # gives the host's resources back.
        server.status = 'SHELVED_OFFLOADED'
        server.host = server.node = None
        self._release(server)

    def _act_unshelve(self, caller, server, args):
        args = args if isinstance(args, dict) else {}
        if args.get('availability_zone'):
            server.availability_zone = args['availability_zone']
        if args.get('host'):
            if not caller.is_admin:
                raise errors.Forbidden("Policy doesn't allow unshelve to a "
                                       "host to be performed.")
            server.requested_host = args['host']
        group = self.server_groups.get(server.group_id)
        spec = self._spec(server, group)
        chosen = self.scheduler.select(spec, self._host_states(spec),
                                       self.pools)
        if chosen is None:
            server.fault = _fault(sched.NO_VALID_HOST)
        else:
            self._claim(server, chosen)
            self._place(server, chosen)

    def _act_reset_state(self, caller, server, args):
        if not caller.is_admin:
            raise errors.Forbidden("Policy doesn't allow "
                                   "os_compute_api:os-admin-actions:"
                                   "reset_state to be performed.")
        state = args.get('state')
        if state not in ('active', 'error'):
            raise errors.BadRequest('Invalid state %r' % state)
        server.status = state.upper()
        server.task_state = None if server.delete_at is None \
            else server.task_state

    def list_images(self):
        with self._lock:
            return [self._copy(i) for i in self.images.values()]


# action -> (statuses it is allowed in (None: any), Cloud method)
_ACTIONS = {
    'createImage': (('ACTIVE', 'SHUTOFF'), '_act_create_image'),
    'os-stop': (('ACTIVE',), '_act_stop'),
    'os-start': (('SHUTOFF',), '_act_start'),
    'reboot': (('ACTIVE', 'SHUTOFF'), '_act_reboot'),
    'shelve': (('ACTIVE', 'SHUTOFF'), '_act_shelve'),
    'shelveOffload': (('SHELVED',), '_act_shelve'),
    'unshelve': (('SHELVED', 'SHELVED_OFFLOADED'), '_act_unshelve'),
    'os-resetState': (None, '_act_reset_state'),
}


def _bool(value):
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError:
        raise errors.BadRequest('Invalid boolean value %r' % value)


def _regex(pattern):
    try:
        return re.compile(pattern)
    except re.error:
        raise errors.BadRequest('Invalid regular expression %r' % pattern)


def _matches(server, filters):
    checks = {
        'host': lambda v: server.host == v,
        'node': lambda v: server.node == v,
        'flavor': lambda v: server.flavor['id'] == v,
        'status': lambda v: server.status == v.upper(),
        'image': lambda v: server.image_id == v,
        'reservation_id': lambda v: server.reservation_id == v,
        'name': lambda v: _regex(v).search(server.name) is not None,
    }
    for key, check in checks.items():
        if key in filters and filters[key] not in (None, ''):
            if not check(filters[key]):
                return False
    return True
