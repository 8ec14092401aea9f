"""``GET /v1/preemptions``: the preemptible servers noticed and reclaimed
for reservations (administrators)."""
import pecan

from blazar.api import controllers as c
from blazar.api import views
from blazar.api.controllers.v1 import availability

_TEXT = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'description': 'a non-empty string of at most 255 characters'}
LIST = {'type': 'object',
        'properties': {key: _TEXT for key in ('lease_id', 'reservation_id', 'project_id')}}


class PreemptionsController:

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        params = availability.query(LIST)
        ctx = c.context()
        c.authorize('blazar:preemptions:get')
        rows = c.manager().list_preemptions(ctx, **params)
        return {'preemptions': [views.preemption(row) for row in rows]}
