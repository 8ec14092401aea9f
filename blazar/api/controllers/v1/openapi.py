"""/v1/openapi.json: the OpenAPI 3.0 document of this API (blazar/api/openapi.py).

Behind the same authentication as the rest of /v1, without a policy rule:
any authenticated caller may read it. Under ``auth_strategy = noauth`` it
says that a token is optional, as it is.
"""
from oslo_config import cfg
import pecan

from blazar.api import controllers as c
from blazar.api import openapi


class OpenAPIController:

    @pecan.expose(generic=True, template='json')
    @c.read_only
    def index(self):
        return openapi.document(pecan.request.application_url,
                                auth_optional=cfg.CONF.auth_strategy == 'noauth')
