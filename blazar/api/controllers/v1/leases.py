"""/v1/leases"""
import pecan

from blazar import exceptions
from blazar import policy
from blazar.api import controllers as c
from blazar.api import paging
from blazar.api import schemas
from blazar.api import views

_TEXT = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'description': 'a non-empty string of at most 255 characters'}
STATUSES = ('CREATING', 'PENDING', 'STARTING', 'ACTIVE', 'UPDATING', 'TERMINATING',
            'TERMINATED', 'DELETING', 'ERROR')
SORT_KEYS = ('created_at', 'id', 'name', 'start_date', 'end_date', 'status')


def _window(field, word):
    return dict(schemas.DATE, description="leases whose %s is %s this UTC date "
                "('YYYY-MM-DD HH:MM' or 'now')" % (field, word))


# Query parameters of GET /v1/leases (others are ignored, as upstream does).
LIST = {'type': 'object', 'properties': dict(
    paging.page_params(SORT_KEYS, 'created_at'),
    status={'type': 'string', 'enum': list(STATUSES),
            'description': 'leases in this status'},
    name=dict(_TEXT, description='leases of this name'),
    project_id=dict(_TEXT, description="leases of this project (administrators; "
                                       "others may name their own project only)"),
    start_before=_window('start', 'before'), start_after=_window('start', 'at or after'),
    end_before=_window('end', 'before'), end_after=_window('end', 'at or after'))}
FILTERS = ('status', 'name', 'start_before', 'start_after', 'end_before', 'end_after')


def _lease_target(lease):
    return {'project_id': lease['project_id'], 'user_id': lease['user_id']}


def _existing(lease_id):
    """The lease, if the caller may read it (404 if missing, 403 if another
    project's)."""
    lease = c.manager().get_lease(c.context(), lease_id=lease_id)
    c.authorize('blazar:leases:get', _lease_target(lease))
    return lease


def _write(lease_id, action, method, **kwargs):
    """The manager's ``method`` for the lease, once the policy allows
    ``action`` on it.

    A lease's owner never changes, so when the policy lets the caller read
    and ``action`` a lease of its own, the manager is asked to act only if
    the lease is the caller's: one call, not a read and then the write. A
    lease that is another's (an administrator's call), or a policy that
    refuses the caller even its own, takes the read, which checks the
    policy against the lease's real owner."""
    ctx = c.context()
    own = policy.default_target(ctx)
    if policy.check(ctx, 'blazar:leases:get', own) and policy.check(ctx, action, own):
        try:
            return c.manager().as_owner(ctx, method, own, lease_id=lease_id, **kwargs)
        except exceptions.OwnerNotConfirmed:
            pass
    c.authorize(action, _lease_target(_existing(lease_id)))
    return getattr(c.manager(), method)(ctx, lease_id=lease_id, **kwargs)


class LeaseController:

    def __init__(self, lease_id):
        self.lease_id = lease_id

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        return {'lease': views.lease(_existing(self.lease_id))}

    @index.when(method='PUT', template='json')
    def put(self):
        body = c.json_body()
        schemas.validate(schemas.LEASE_UPDATE, body)
        body.pop('events', None)
        updated = _write(self.lease_id, 'blazar:leases:put', 'update_lease', values=body)
        return {'lease': views.lease(updated)}

    @index.when(method='DELETE', template='json')
    def delete(self):
        _write(self.lease_id, 'blazar:leases:delete', 'delete_lease')
        c.status(204)


class LeasesController:

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:leases:get')
        ctx = c.context()
        params = paging.read(LIST)
        project_id = None if policy.is_admin(ctx) else ctx.project_id
        if 'project_id' in params:
            if project_id is not None and params['project_id'] != project_id:
                raise exceptions.PolicyNotAuthorized(
                    action='blazar:leases:get (another project)')
            project_id = params['project_id']
        pager = paging.Pager(params)
        filters = {key: params[key] for key in FILTERS if key in params}
        if not filters and pager.page is None:  # as before paging existed
            leases = c.manager().list_leases(ctx, project_id=project_id)
        else:
            leases = c.manager().list_leases(ctx, project_id=project_id,
                                             filters=filters, page=pager.page)
        return pager.answer('leases', [views.lease(lease) for lease in leases])

    @index.when(method='POST', template='json')
    def post(self):
        body = c.json_body()
        schemas.validate(schemas.LEASE_CREATE, body)
        c.authorize('blazar:leases:post')
        body.pop('events', None)
        lease = c.manager().create_lease(c.context(), values=body)
        c.status(201)
        return {'lease': views.lease(lease)}

    @pecan.expose()
    def _lookup(self, lease_id, *remainder):
        if remainder:
            pecan.abort(404)
        return LeaseController(lease_id), remainder
