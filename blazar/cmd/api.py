"""blazar-api: the REST API on [api] bind_host:bind_port (threaded server)."""
import logging

from oslo_config import cfg

from blazar import service
from blazar.api import app as api_app
from blazar.utils import wsgi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def main():
    service.prepare()
    server = wsgi.Server(api_app.setup_app(), CONF.api.bind_host, CONF.api.bind_port,
                         name='blazar-api')
    LOG.info('blazar-api listening on %s', server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
