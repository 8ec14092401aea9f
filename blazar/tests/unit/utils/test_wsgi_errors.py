"""What the threaded server refuses before the app sees it answers JSON too."""
import json
import socket

from blazar.utils import wsgi


def _app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [json.dumps({'content_type': environ.get('CONTENT_TYPE')}).encode()]


def _raw(server, data):
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    head, _sep, body = b''.join(chunks).partition(b'\r\n\r\n')
    return head.decode('latin-1'), body


def test_a_request_line_over_64_kib_is_a_json_414():
    server = wsgi.Server(_app, '127.0.0.1', 0).start()
    try:
        head, body = _raw(server, b'GET /' + b'x' * 70000 + b' HTTP/1.1\r\n\r\n')
    finally:
        server.stop()
    assert head.startswith('HTTP/1.0 414') or head.startswith('HTTP/1.1 414')
    assert 'Content-Type: application/json' in head
    answer = json.loads(body)
    assert answer['error_code'] == answer['error_name'] == 414
    assert 'URL is longer' in answer['error_message']


def test_no_content_type_is_no_content_type():
    # wsgiref would write 'text/plain' for a request that sends none.
    server = wsgi.Server(_app, '127.0.0.1', 0).start()
    try:
        _head, body = _raw(server, b'POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}')
        _head, typed = _raw(server, b'POST / HTTP/1.0\r\nContent-Length: 2\r\n'
                                    b'Content-Type: text/plain\r\n\r\n{}')
    finally:
        server.stop()
    assert json.loads(body) == {'content_type': None}
    assert json.loads(typed) == {'content_type': 'text/plain'}
