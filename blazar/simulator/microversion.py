"""Compute API microversion negotiation and the version documents.

python-novaclient sends ``OpenStack-API-Version: compute X.Y`` (and the
legacy ``X-OpenStack-Nova-API-Version``) and, when asked for 'latest',
first reads ``GET /v2.1`` to learn the server's range; both must look like
Nova's or the client refuses to talk.
"""
import re

from blazar.simulator import errors

MIN = (2, 1)
MAX = (2, 96)
HEADER = 'OpenStack-API-Version'
LEGACY_HEADER = 'X-OpenStack-Nova-API-Version'
VARY = '%s, %s' % (HEADER, LEGACY_HEADER)
UPDATED = '2013-07-23T11:33:21Z'

_VERSION_RE = re.compile(r'^([1-9]\d*)\.([1-9]\d*|0)$')


def to_str(version):
    return '%d.%d' % version


def _requested(headers):
    value = headers.get(HEADER)
    if value:
        for item in value.split(','):
            service, _sep, version = item.strip().partition(' ')
            if service.lower() == 'compute':
                return version.strip()
    return headers.get(LEGACY_HEADER)


def negotiate(headers):
    """The microversion a request asks for, as a (major, minor) tuple."""
    value = _requested(headers)
    if not value:
        return MIN
    if value.lower() == 'latest':
        return MAX
    match = _VERSION_RE.match(value.strip())
    if not match:
        raise errors.BadRequest('API Version String %s is of invalid '
                                'format. Must be of format MajorNum.MinorNum.'
                                % value)
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN <= version <= MAX:
        raise errors.NotAcceptable(
            'Version %s is not supported by the API. Minimum is %s and '
            'maximum is %s.' % (value, to_str(MIN), to_str(MAX)))
    return version


def version_doc(root_url):
    return {
        'id': 'v2.1', 'status': 'CURRENT', 'version': to_str(MAX),
        'min_version': to_str(MIN), 'updated': UPDATED,
        'links': [{'rel': 'self', 'href': '%s/v2.1/' % root_url},
                  {'rel': 'describedby', 'type': 'text/html',
                   'href': 'http://docs.openstack.org/'}],
        'media-types': [{'base': 'application/json',
                         'type': 'application/vnd.openstack.compute+json;'
                                 'version=2.1'}],
    }


def versions_doc(root_url):
    doc = version_doc(root_url)
    del doc['media-types']
    doc['links'] = doc['links'][:1]
    return {'versions': [doc]}
