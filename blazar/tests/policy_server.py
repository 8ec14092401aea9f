"""A usage policy service for the tests: http.server on 127.0.0.1 in a
thread, recording each call and answering what the test scripted."""
import collections
import http.server
import json
import threading
import time

Call = collections.namedtuple('Call', 'path headers body')


class PolicyServer:
    """``answers[path]`` is a list of (status, body, delay) consumed in order
    (the last one repeats); the default answer is 204. A body that is a
    dict is sent as JSON, a string as text/plain."""

    def __init__(self, tls=None):
        """``tls``: an ``ssl.SSLContext`` (server side) to serve https."""
        self.calls = []
        self.answers = {}
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                status, answer, delay = server._answer(self.path, body)
                with server._lock:
                    server.calls.append(Call(self.path, dict(self.headers), body))
                if delay:
                    time.sleep(delay)
                data = b''
                content_type = 'application/json'
                if isinstance(answer, (dict, list)):
                    data = json.dumps(answer).encode()
                elif isinstance(answer, str):
                    data, content_type = answer.encode(), 'text/plain'
                try:
                    self.send_response(status)
                    if data:
                        self.send_header('Content-Type', content_type)
                    self.send_header('Content-Length', str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        scheme = 'http'
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
            scheme = 'https'
        self.url = '%s://127.0.0.1:%d' % (scheme, self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                        daemon=True)
        self._started = False

    def _answer(self, path, body):
        with self._lock:
            queue = self.answers.get(path)
            if not queue:
                return 204, None, 0
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(answer):
            answer = answer(body)
        return tuple(answer) + (0,) * (3 - len(answer))

    def answer(self, path, *answers):
        """Script the answers to ``path``: (status, body[, delay]) each, or
        a function of the request's JSON body returning one."""
        with self._lock:
            self.answers[path] = list(answers)

    def calls_to(self, path):
        with self._lock:
            return [c for c in self.calls if c.path == path]

    def wait_for(self, path, count=1, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            calls = self.calls_to(path)
            if len(calls) >= count:
                return calls
            time.sleep(0.05)
        raise AssertionError('%d call(s) to %s, wanted %d' % (
            len(self.calls_to(path)), path, count))

    def start(self):
        self._thread.start()
        self._started = True
        return self

    def stop(self):
        if self._started:
            self.httpd.shutdown()
        self.httpd.server_close()
