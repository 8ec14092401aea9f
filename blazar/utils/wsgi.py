"""A small threaded WSGI server for blazar-api, blazar-all and the simulator.

It speaks HTTP/1.1 with persistent connections (a response without a
length closes its connection). Production deployments may run
blazar.api.wsgi:application under uwsgi or gunicorn instead.
"""
import json
import logging
import socket
import socketserver
import threading
from wsgiref import simple_server

LOG = logging.getLogger(__name__)


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 resets bursts of clients.
    request_queue_size = 128


class _Body:
    """The request body as the application sees it: at most Content-Length
    bytes, the rest drained after the response so that the next request of
    the connection starts where it should."""

    def __init__(self, rfile, length):
        self._rfile = rfile
        self._left = length

    def read(self, size=-1):
        if self._left <= 0:
            return b''
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._rfile.read(size)
        self._left -= len(data)
        return data

    def readline(self, size=-1):
        if self._left <= 0:
            return b''
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._rfile.readline(size)
        self._left -= len(data)
        return data

    def readlines(self, hint=-1):
        return list(iter(self.readline, b''))

    def __iter__(self):
        return iter(self.readline, b'')

    def drain(self):
        while self._left > 0:
            if not self.read(65536):
                return False
        return True


class _ServerHandler(simple_server.ServerHandler):
    http_version = '1.1'

    def cleanup_headers(self):
        super().cleanup_headers()
        handler = self.request_handler
        if 'Content-Length' not in self.headers:
            # No chunked encoding here: the end of the body is the close.
            handler.close_connection = True
        if handler.close_connection:
            self.headers['Connection'] = 'close'


class _Handler(simple_server.WSGIRequestHandler):
    protocol_version = 'HTTP/1.1'
    # wsgiref writes the status line, the headers and the body separately:
    # with Nagle's algorithm on, a persistent connection's later writes wait
    # for the client's delayed ACK, 40 ms a response.
    disable_nagle_algorithm = True
    # An idle persistent connection is closed after this many seconds.
    timeout = 60

    def handle(self):
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (TimeoutError, socket.timeout, ConnectionError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ''
            self.close_connection = True
            self.send_error(414)
            return
        if not self.parse_request():
            self.close_connection = True
            return
        environ = self.get_environ()
        if 'chunked' in (self.headers.get('Transfer-Encoding') or '').lower():
            # Not decoded here: the body runs to the end of the connection.
            self.close_connection = True
            body = self.rfile
        else:
            try:
                length = int(environ.get('CONTENT_LENGTH') or 0)
            except ValueError:
                length = 0
            body = _Body(self.rfile, max(length, 0))
        handler = _ServerHandler(body, self.wfile, self.get_stderr(), environ,
                                 multithread=True)
        handler.request_handler = self
        handler.run(self.server.get_app())
        if isinstance(body, _Body) and not self.close_connection and not body.drain():
            self.close_connection = True

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


def not_ready(environ, start_response):
    """What a bound server answers before its application is set."""
    start_response('503 Service Unavailable', [('Content-Length', '0')])
    return [b'']


class Server:
    """Binds at once; ``app`` may be given later (``set_app``), so that
    forked workers share the socket the parent bound."""

    def __init__(self, app, host, port, name='wsgi'):
        self.name = name
        self._server = simple_server.make_server(host, port, app, server_class=_Server,
                                                 handler_class=_Handler)
        self.host, self.port = self._server.server_address[:2]
        self._thread = None
        self._serving = threading.Event()

    def set_app(self, app):
        self._server.set_app(app)

    @property
    def url(self):
        host = '[%s]' % self.host if ':' in self.host else self.host
        return 'http://%s:%s' % (host, self.port)

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever,
                                        name=self.name, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self._serving.set()
        self._server.serve_forever(poll_interval=0.05)

    def stop(self, timeout=5):
        """Take no new connection; the requests under way finish (their
        threads are daemons: not past the process's end)."""
        if self._serving.is_set():
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
