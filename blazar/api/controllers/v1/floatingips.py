"""/v1/floatingips: the addresses leases may reserve (virtual:floatingip)."""
import pecan

from blazar.api import controllers as c
from blazar.api import schemas
from blazar.api import views


class FloatingIPController:

    def __init__(self, fip_id):
        self.fip_id = fip_id

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:floatingips:get')
        return {'floatingip': views.floatingip(c.manager().get_floatingip(
            c.context(), floatingip_id=self.fip_id))}

    @index.when(method='DELETE', template='json')
    def delete(self):
        c.authorize('blazar:floatingips:delete')
        c.manager().delete_floatingip(c.context(), floatingip_id=self.fip_id)
        c.status(204)


class FloatingIPsController:

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        c.authorize('blazar:floatingips:get')
        return {'floatingips': [views.floatingip(f)
                                for f in c.manager().list_floatingips(c.context())]}

    @index.when(method='POST', template='json')
    def post(self):
        body = c.json_body()
        c.authorize('blazar:floatingips:post')
        schemas.validate(schemas.FLOATINGIP_CREATE, body)
        fip = c.manager().create_floatingip(c.context(), values=body)
        c.status(201)
        return {'floatingip': views.floatingip(fip)}

    @pecan.expose()
    def _lookup(self, floatingip_id, *remainder):
        if remainder:
            pecan.abort(404)
        return FloatingIPController(floatingip_id), remainder
