"""What a handler of the simulated API gets and gives back.

``Call`` bundles the request, the cloud, the caller and the negotiated
microversion; ``Route`` is one line of the explicit routing table each
``api_*`` module exports.  Handlers return ``(status, body)`` or
``(status, body, headers)``; a body of None means an empty response.
"""
import dataclasses
import json
import re

from oslo_utils import strutils

from blazar.simulator import errors


@dataclasses.dataclass
class Route:
    method: str
    pattern: str
    handler: object
    admin: str = None           # policy name when admin-only
    min_version: tuple = None
    max_version: tuple = None

    def __post_init__(self):
        self.regex = re.compile('^%s$' % self.pattern)

    def accepts(self, version):
        return ((self.min_version is None or version >= self.min_version)
                and (self.max_version is None
                     or version <= self.max_version))


class Call:
    def __init__(self, req, cloud, caller, version):
        self.req = req
        self.cloud = cloud
        self.caller = caller
        self.v = version
        self.base = req.host_url + req.script_name

    def param(self, name, default=None):
        return self.req.GET.get(name, default)

    def bool_param(self, name, default=False):
        value = self.req.GET.get(name)
        if value is None:
            return default
        try:
            return strutils.bool_from_string(value, strict=True)
        except ValueError:
            raise errors.BadRequest('Invalid value %r for %s'
                                    % (value, name))

    def int_param(self, name, default=None, minimum=0):
        value = self.req.GET.get(name)
        if value is None:
            return default
        try:
            value = int(value)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise errors.BadRequest('Invalid value for %s' % name)
        return value

    def body(self, key=None):
        """The JSON body (a dict), or its ``key`` member, or 400."""
        try:
            data = json.loads(self.req.body or b'null')
        except ValueError:
            raise errors.BadRequest('Malformed request body')
        if not isinstance(data, dict):
            raise errors.BadRequest('Malformed request body')
        if key is None:
            return data
        if not isinstance(data.get(key), dict):
            raise errors.BadRequest("Invalid input for field/attribute %s. "
                                    "'%s' is a required property"
                                    % (key, key))
        return data[key]

    def admin_only(self, policy):
        if not self.caller.is_admin:
            raise errors.Forbidden("Policy doesn't allow %s to be performed."
                                   % policy)


def paginate(items, call, key='id'):
    """Nova's marker/limit: items after ``marker``, at most ``limit``."""
    marker = call.param('marker')
    limit = call.int_param('limit', default=1000)
    if marker is not None:
        ids = [str(item[key]) for item in items]
        if marker not in ids:
            raise errors.BadRequest('marker [%s] not found' % marker)
        items = items[ids.index(marker) + 1:]
    return items[:limit]


def text(value, name, required=True, max_length=255):
    """Validate a string field the way Nova's JSON schemas do."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() \
            or len(value) > max_length:
        raise errors.BadRequest('Invalid input for field/attribute %s.'
                                % name)
    return value


def integer(value, name, minimum=0):
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value)
        if isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError):
        raise errors.BadRequest('Invalid input for field/attribute %s.'
                                % name)
    if number < minimum:
        raise errors.BadRequest('Invalid input for field/attribute %s. '
                                'Value must be >= %d' % (name, minimum))
    return number
