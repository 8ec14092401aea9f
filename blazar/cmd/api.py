"""blazar-api: the REST API on [api] bind_host:bind_port.

A supervisor (blazar/launcher.py) binds the socket and forks ``[api]
workers`` processes serving it with a threaded HTTP/1.1 server.
"""
import logging

from oslo_config import cfg

from blazar import launcher
from blazar import service
from blazar.utils import wsgi

CONF = cfg.CONF
LOG = logging.getLogger(__name__)



class APIService(launcher.Service):
    name = 'blazar-api'

    def __init__(self, worker_id, server):
        super().__init__(worker_id)
        self.server = server

    def start(self):
        from blazar.api import app as api_app
        self.server.set_app(api_app.setup_app())
        LOG.info('blazar-api worker %d serving %s', self.worker_id, self.server.url)
        self.server.serve_forever()

    def stop(self, deadline):
        self.server.stop(deadline.left(floor=0.1))


def main():
    service.prepare(reports='blazar-api')
    server = wsgi.Server(wsgi.not_ready, CONF.api.bind_host, CONF.api.bind_port,
                         name='blazar-api')
    LOG.info('blazar-api listening on %s with %d worker(s)', server.url, CONF.api.workers)
    launcher.launch(APIService, workers=CONF.api.workers, args=(server,))


if __name__ == '__main__':
    main()
