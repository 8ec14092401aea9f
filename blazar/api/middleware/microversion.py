"""OpenStack-API-Version for service type 'reservation' (only 1.0 exists)."""
import re

import webob

from blazar.api import errors

SERVICE_TYPE = 'reservation'
MIN_VERSION = (1, 0)
MAX_VERSION = (1, 0)
HEADER = 'OpenStack-API-Version'
_VERSION = re.compile(r'^([1-9]\d*)\.([1-9]\d*|0)$')


def _fmt(version):
    return '%d.%d' % version


def requested_version(header_value):
    """Parse the header; return a version tuple or raise ValueError/LookupError."""
    if not header_value:
        return MAX_VERSION
    wanted = None
    for item in header_value.split(','):
        parts = item.strip().split()
        if len(parts) == 2 and parts[0].lower() == SERVICE_TYPE:
            wanted = parts[1]
        elif len(parts) == 1 and wanted is None and _VERSION.match(parts[0]):
            wanted = None  # a bare version without service type is ignored
    if wanted is None:
        return MIN_VERSION
    if wanted.lower() == 'latest':
        return MAX_VERSION
    match = _VERSION.match(wanted)
    if not match:
        raise ValueError(wanted)
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise LookupError(wanted)
    return version


class Microversion:

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        request = webob.Request(environ)
        header = request.headers.get(HEADER)
        version_text = _fmt(MIN_VERSION)
        try:
            version = requested_version(header)
        except ValueError as exc:
            response = errors.error_response(
                400, 'Invalid %s header %r: version %s is not of the form '
                     'MAJOR.MINOR' % (HEADER, header, exc))
        except LookupError as exc:
            response = errors.error_response(
                406, 'Version %s is not supported by the API. Minimum is %s and '
                     'maximum is %s.' % (exc, _fmt(MIN_VERSION), _fmt(MAX_VERSION)))
        else:
            environ['blazar.api_version'] = version
            response = request.get_response(self.app)
            version_text = _fmt(version)
        response.headers[HEADER] = '%s %s' % (SERVICE_TYPE, version_text)
        response.headers.add('Vary', HEADER)
        return response(environ, start_response)
