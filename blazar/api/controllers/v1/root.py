import pecan

from blazar.api import controllers
from blazar.api.controllers.v1 import availability
from blazar.api.controllers.v1 import floatingips
from blazar.api.controllers.v1 import hosts
from blazar.api.controllers.v1 import leases
from blazar.api.controllers.v1 import openapi
from blazar.api.controllers.v1 import preemptions


class V1Controller:
    leases = leases.LeasesController()

    @pecan.expose(generic=True, template='json')
    @controllers.read_only
    def index(self):
        url = pecan.request.application_url.rstrip('/') + '/v1'
        return {'version': {'id': 'v1.0', 'status': 'CURRENT', 'min_version': '1.0',
                            'max_version': '1.0',
                            'links': [{'href': url, 'rel': 'self'}]}}


pecan.route(V1Controller, 'os-hosts', hosts.HostsController())
pecan.route(V1Controller, 'floatingips', floatingips.FloatingIPsController())
pecan.route(V1Controller, 'availability', availability.AvailabilityController())
pecan.route(V1Controller, 'offerings', availability.OfferingsController())
pecan.route(V1Controller, 'calendar', availability.CalendarController())
pecan.route(V1Controller, 'usage', availability.UsageController())
pecan.route(V1Controller, 'preemptions', preemptions.PreemptionsController())
# GET /v1/openapi.json (Pecan strips the .json extension before routing).
pecan.route(V1Controller, 'openapi', openapi.OpenAPIController())
