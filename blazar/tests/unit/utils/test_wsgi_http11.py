"""The standalone server speaks HTTP/1.1: persistent connections, request
bodies read to their length, and a close when either side asks for it."""
import http.client
import json
import socket
import statistics
import time

import pytest

from blazar.utils import wsgi


def _app(environ, start_response):
    body = environ['wsgi.input'].read() if environ['PATH_INFO'] == '/read' else b''
    if environ['PATH_INFO'] == '/stream':
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return iter([b'a', b'b'])
    answer = json.dumps({'path': environ['PATH_INFO'], 'body': body.decode(),
                         'protocol': environ['SERVER_PROTOCOL']}).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(answer)))])
    return [answer]


@pytest.fixture
def server():
    running = wsgi.Server(_app, '127.0.0.1', 0).start()
    try:
        yield running
    finally:
        running.stop()


def test_requests_share_one_connection(server):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        answers = []
        for path, body in (('/read', '{"a": 1}'), ('/unread', 'ignored by the app'),
                           ('/read', 'third')):
            conn.request('POST', path, body=body)
            resp = conn.getresponse()
            assert resp.version == 11
            assert resp.getheader('Connection') is None
            answers.append(json.loads(resp.read()))
            sock = conn.sock
            assert sock is not None     # still open: the next request reuses it
    finally:
        conn.close()
    assert [a['path'] for a in answers] == ['/read', '/unread', '/read']
    # The body the app left unread did not leak into the next request.
    assert [a['body'] for a in answers] == ['{"a": 1}', '', 'third']
    assert answers[0]['protocol'] == 'HTTP/1.1'


def test_connection_close_is_honoured(server):
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
        data = b''
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b'\r\n\r\n', 1)[0].decode()
    assert head.startswith('HTTP/1.1 200')
    assert 'Connection: close' in head


def test_a_response_without_length_closes_the_connection(server):
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b'GET /stream HTTP/1.1\r\nHost: a\r\n\r\n')
        data = b''
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    assert b'Connection: close' in head
    assert body == b'ab'


def test_a_persistent_connection_s_responses_do_not_wait_for_delayed_acks(server):
    """wsgiref writes a response in several pieces; with Nagle's algorithm
    on the server's socket, every response after the first few of a
    persistent connection waited for the client's delayed ACK (40 ms on
    Linux). The median of many requests stays far below that delay."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    latencies = []
    try:
        for _ in range(30):
            started = time.perf_counter()
            conn.request('GET', '/x')
            conn.getresponse().read()
            latencies.append(time.perf_counter() - started)
    finally:
        conn.close()
    assert statistics.median(latencies) < 0.02, latencies
