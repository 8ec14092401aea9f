"""``GET /v1/preemptions``: the preemptible servers noticed and reclaimed
for reservations (administrators)."""
import pecan

from blazar.api import controllers as c
from blazar.api import paging
from blazar.api import views
from blazar.api.controllers.v1 import availability

_TEXT = {'type': 'string', 'minLength': 1, 'maxLength': 255,
         'description': 'a non-empty string of at most 255 characters'}
SORT_KEYS = ('created_at', 'id')
# Unlike the lists upstream has, this one refuses parameters it does not take.
LIST = {'type': 'object',
        'properties': dict({key: _TEXT for key in ('lease_id', 'reservation_id',
                                                   'project_id')},
                           **paging.page_params(SORT_KEYS, 'created_at', 'desc'))}
FILTERS = ('lease_id', 'reservation_id', 'project_id')


class PreemptionsController:

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        params = availability.query(LIST)
        ctx = c.context()
        c.authorize('blazar:preemptions:get')
        pager = paging.Pager(params)
        filters = {key: params[key] for key in FILTERS if key in params}
        if pager.page is None:  # as before paging existed
            rows = c.manager().list_preemptions(ctx, **filters)
        else:
            rows = c.manager().list_preemptions(ctx, page=pager.page, **filters)
        return pager.answer('preemptions', [views.preemption(row) for row in rows])
