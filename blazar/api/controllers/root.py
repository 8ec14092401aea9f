import pecan

from blazar.api import controllers
from blazar.api.controllers.v1 import root as v1_root


def versions_document():
    host = pecan.request.application_url.rstrip('/')
    return {'versions': [{
        'id': 'v1.0', 'status': 'CURRENT', 'min_version': '1.0', 'max_version': '1.0',
        'links': [{'href': host + '/v1', 'rel': 'self'}]}]}


class RootController:
    v1 = v1_root.V1Controller()

    @pecan.expose(generic=True, template='json')
    @controllers.read_only
    def index(self):
        pecan.response.status = 300
        return versions_document()

    @pecan.expose(template='json')
    def versions(self):
        pecan.response.status = 300
        return versions_document()
