"""A small threaded WSGI server for blazar-api, blazar-all and the simulator.

Production deployments run blazar.api.wsgi:application under uwsgi or
gunicorn instead.
"""
import json
import logging
import socketserver
import threading
from wsgiref import simple_server

LOG = logging.getLogger(__name__)


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 resets bursts of clients.
    request_queue_size = 128


class _Handler(simple_server.WSGIRequestHandler):

    def get_environ(self):
        env = super().get_environ()
        if self.headers.get('Content-Type') is None:
            # wsgiref writes 'text/plain' for a request without one; the API
            # reads a body without Content-Type as JSON (as under uwsgi).
            env.pop('CONTENT_TYPE', None)
        return env

    def send_error(self, code, message=None, explain=None):
        """What http.server refuses itself (a request line over 64 KiB, too
        many or too long headers, a malformed request line) answers the
        API's JSON error body too."""
        short = self.responses.get(code, ('Error',))[0]
        if code == 414:
            message = 'The URL is longer than the server takes'
        body = json.dumps({'error_code': code, 'error_message': message or short,
                           'error_name': code}).encode('utf-8')
        # One line per refused request, as the API writes for its own.
        LOG.info('%d %s before routing: %s', code, self.client_address[0],
                 message or short)
        self.send_response(code, short)
        self.send_header('Connection', 'close')
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def log_message(self, fmt, *args):
        LOG.debug('%s %s', self.client_address[0], fmt % args)


class Server:

    def __init__(self, app, host, port, name='wsgi'):
        self.name = name
        self._server = simple_server.make_server(host, port, app, server_class=_Server,
                                                 handler_class=_Handler)
        self.host, self.port = self._server.server_address[:2]
        self._thread = None

    @property
    def url(self):
        host = '[%s]' % self.host if ':' in self.host else self.host
        return 'http://%s:%s' % (host, self.port)

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={'poll_interval': 0.05},
                                        name=self.name, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._server.serve_forever()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
