"""Checks every request passes at the API's edge, before any controller,
recursive walk or database sees it (blazar/api/middleware/edge.py applies
them; doc/source/api/index.rst documents them):

* a request body is a JSON object in UTF-8, nested at most
  :data:`MAX_BODY_DEPTH` levels, with finite numbers;
* no string anywhere (path, query string, body keys and values) holds
  U+0000 (NUL) or a lone UTF-16 surrogate, which no backend stores alike
  (PostgreSQL refuses NUL, drivers cannot encode surrogates);
* the caller's user and project ids fit their columns
  (:data:`MAX_IDENTITY_LENGTH`).

Each failure is a :class:`blazar.exceptions.InvalidInput` (400) saying what
is wrong and where.
"""
import json
import math
import re
import urllib.parse

from blazar import exceptions

# Deep enough for any request the API takes (a lease body holds property
# queries of at most blazar.allocation.properties.MAX_DEPTH levels), far
# from Python's recursion limit.
MAX_BODY_DEPTH = 64
MAX_IDENTITY_LENGTH = 255
# Path and query string, as received (longer is a 414).
MAX_URL_LENGTH = 16384

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r'[\[\]{}]')
_BAD_CHAR = re.compile('[\x00\ud800-\udfff]')


def _describe(char):
    if char == '\x00':
        return 'U+0000 (NUL)'
    return 'a lone UTF-16 surrogate (U+%04X)' % ord(char)


def bad_character(text):
    """The first character of ``text`` no string may hold, or None."""
    match = _BAD_CHAR.search(text)
    return match.group() if match else None


def check_text(text, where):
    """400 if ``text`` holds NUL or a lone surrogate."""
    char = bad_character(text)
    if char is not None:
        raise exceptions.InvalidInput(
            reason='%s contains %s, which is not allowed' % (where, _describe(char)))


def nesting_depth(text):
    """How deeply arrays and objects nest in JSON text, found without
    recursion (strings are skipped)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub('""', text)):
        if bracket in '[{':
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_depth(text, where, limit=MAX_BODY_DEPTH):
    if nesting_depth(text) > limit:
        raise exceptions.InvalidInput(
            reason='%s is nested more than %d levels deep' % (where, limit))


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise exceptions.InvalidInput(
            reason='the body holds the number %s, which is out of range'
                   % (text if len(text) <= 40 else text[:37] + '...'))
    return value


def _no_constant(name):
    raise exceptions.InvalidInput(
        reason='the body is not valid JSON: %s is not a JSON value' % name)


def loads(text, where='the body'):
    """JSON text to Python, strictly: no NaN/Infinity, finite numbers, at
    most MAX_BODY_DEPTH levels deep."""
    check_depth(text, where)
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except ValueError as exc:
        # Also Python's own limit on integer digits (4300).
        raise exceptions.InvalidInput(reason='%s is not valid JSON: %s' % (where, exc))


def _path(path):
    out = ''
    for part in path:
        out += '[%d]' % part if isinstance(part, int) else ('.%s' % part if out else part)
    return out or 'body'


def check_strings(value, where='body'):
    """400 naming the field if a key or string anywhere in a decoded JSON
    value holds NUL or a lone surrogate (walked without recursion)."""
    stack = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            char = bad_character(item)
            if char is not None:
                raise exceptions.InvalidInput(
                    reason='Invalid %s: %s contains %s, which is not allowed'
                           % (where, _path(path), _describe(char)))
        elif isinstance(item, dict):
            for key, sub in item.items():
                char = bad_character(key)
                if char is not None:
                    raise exceptions.InvalidInput(
                        reason='Invalid %s: the key %r in %s contains %s, which '
                               'is not allowed' % (where, key, _path(path),
                                                    _describe(char)))
                stack.append((sub, path + (key,)))
        elif isinstance(item, list):
            stack.extend((sub, path + (i,)) for i, sub in enumerate(item))


def parse_body(raw):
    """The request body (bytes) as a JSON object; {} when empty."""
    if not raw:
        return {}
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise exceptions.InvalidInput(
            reason='the body is not valid UTF-8 (byte %d)' % exc.start)
    if text.startswith('\ufeff'):
        text = text[1:]
    if not text.strip():
        return {}
    body = loads(text)
    if not isinstance(body, dict):
        raise exceptions.InvalidInput(reason='the body must be a JSON object')
    check_strings(body)
    return body


def check_path(path_info):
    """PATH_INFO (WSGI: bytes as latin-1) must be UTF-8 without NUL."""
    try:
        path = path_info.encode('latin-1').decode('utf-8')
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise exceptions.InvalidInput(reason='the path is not valid UTF-8')
    char = bad_character(path)
    if char is not None:
        segments = path.split('/')
        index = next(i for i, s in enumerate(segments) if bad_character(s))
        raise exceptions.InvalidInput(
            reason='the path segment %d (%r) contains %s, which is not allowed'
                   % (index, segments[index][:64], _describe(char)))
    return path


def check_query(query_string):
    """The query string must be UTF-8 without NUL; returns its pairs."""
    try:
        pairs = urllib.parse.parse_qsl(query_string, keep_blank_values=True,
                                       encoding='utf-8', errors='strict')
    except UnicodeDecodeError:
        raise exceptions.InvalidInput(reason='the query string is not valid UTF-8')
    except ValueError as exc:
        raise exceptions.InvalidInput(reason='the query string is malformed: %s' % exc)
    for name, value in pairs:
        check_text(name, 'the name of query parameter %r' % name[:64])
        check_text(value, 'query parameter %s' % name[:64])
    return pairs


def check_identity(environ):
    """The caller's ids (set by keystonemiddleware or noauth) fit the
    columns that store them."""
    for header, what in (('HTTP_X_PROJECT_ID', 'project id'),
                         ('HTTP_X_USER_ID', 'user id')):
        value = environ.get(header) or ''
        if len(value) > MAX_IDENTITY_LENGTH:
            raise exceptions.InvalidInput(
                reason="the caller's %s is longer than %d characters"
                       % (what, MAX_IDENTITY_LENGTH))
