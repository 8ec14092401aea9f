"""/v1/leases"""
import pecan

from blazar import policy
from blazar.api import controllers as c
from blazar.api import schemas
from blazar.api import views


def _lease_target(lease):
    return {'project_id': lease['project_id'], 'user_id': lease['user_id']}


def _existing(lease_id):
    """The lease, if the caller may read it (404 if missing, 403 if another
    project's)."""
    lease = c.manager().get_lease(c.context(), lease_id=lease_id)
    c.authorize('blazar:leases:get', _lease_target(lease))
    return lease


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
        lease = _existing(self.lease_id)
        c.authorize('blazar:leases:put', _lease_target(lease))
        body.pop('events', None)
        updated = c.manager().update_lease(c.context(), lease_id=self.lease_id,
                                           values=body)
        return {'lease': views.lease(updated)}

    @index.when(method='DELETE', template='json')
    def delete(self):
        lease = _existing(self.lease_id)
        c.authorize('blazar:leases:delete', _lease_target(lease))
        c.manager().delete_lease(c.context(), lease_id=self.lease_id)
        c.status(204)


class LeasesController:

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:leases:get')
        ctx = c.context()
        project_id = None if policy.is_admin(ctx) else ctx.project_id
        leases = c.manager().list_leases(ctx, project_id=project_id)
        return {'leases': [views.lease(lease) for lease in leases]}

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
