"""Paging and filtering of the list operations, as HTTP sees them.

``GET /v1/leases``, ``/v1/os-hosts``, ``/v1/os-hosts/allocations`` and
``/v1/preemptions`` take the OpenStack API guidelines' ``limit``,
``marker``, ``sort_key`` and ``sort_dir``. Without any of them an answer is
what it always was (every item, in the list's usual order). With ``limit``
or ``marker`` it is one page of at most ``limit`` items (cut to
``[api] max_limit``; ``max_limit`` when only a marker is given), and a
``<resource>_links`` list with the ``next`` page's address while more
remain. The store pages by keyset (the marker's sort value, then ids), so
items inserted between two requests never shift or repeat a later page.

Query parameters are read leniently where upstream's clients expect it:
parameters a list does not take are ignored (python-blazarclient and
blazar-dashboard send their own), a repeated one counts its last value,
and every value given must be valid (400 naming it otherwise).
"""
import urllib.parse

from oslo_config import cfg
import pecan

from blazar.api import schemas

CONF = cfg.CONF

LIMIT = {'type': 'string', 'pattern': r'^[1-9][0-9]{0,17}$',
         'description': 'the most items to answer: a whole number from 1 (cut to '
                        'the [api] max_limit option, 1000 by default); the answer '
                        'then carries a next link while more remain'}
MARKER = {'type': 'string', 'minLength': 1, 'maxLength': 255,
          'description': "the id of the previous page's last item: the page "
                         'starts after it (400 if there is no such item)'}
SORT_DIR = {'type': 'string', 'enum': ['asc', 'desc'],
            'description': 'asc or desc'}
PAGE_KEYS = ('limit', 'marker', 'sort_key', 'sort_dir')


def page_params(sort_keys, default_key, default_dir='asc'):
    """The paging parameters' schemas of a list sorted by ``sort_keys``."""
    return {
        'limit': LIMIT, 'marker': MARKER,
        'sort_key': {'type': 'string', 'enum': list(sort_keys),
                     'description': 'sort by this attribute (then by id): %s; '
                                    'default %s' % (', '.join(sort_keys), default_key)},
        'sort_dir': dict(SORT_DIR, description='sort direction: asc or desc; default %s'
                                               % default_dir)}


def read(schema):
    """The query parameters ``schema`` names, each checked against it (400
    naming a bad one; a repeated one is checked each time and counts its
    last value); other parameters are ignored."""
    params = {}
    for key, prop in schema['properties'].items():
        values = pecan.request.GET.getall(key)
        for value in values:
            schemas.validate({'type': 'object', 'properties': {key: prop}},
                             {key: value})
        if values:
            params[key] = values[-1]
    return params


class Pager:
    """The page a request asks for, and its next link."""

    def __init__(self, params):
        self.params = params
        asked = {key: params[key] for key in PAGE_KEYS if key in params}
        self.limit = None
        if 'limit' in asked or 'marker' in asked:
            self.limit = min(int(asked.get('limit', CONF.api.max_limit)),
                             CONF.api.max_limit)
        # What the store is asked: one more item than the page, to know
        # whether more remain; None: the whole list as it always was.
        self.page = None
        if asked:
            self.page = {key: asked.get(key) for key in ('marker', 'sort_key', 'sort_dir')}
            self.page['limit'] = None if self.limit is None else self.limit + 1

    def answer(self, key, items, id_of=lambda item: item['id']):
        """{key: the page's items} and, while more remain, {key_links: [next]}."""
        if self.limit is None or len(items) <= self.limit:
            return {key: items}
        items = items[:self.limit]
        query = [(k, v) for k, v in pecan.request.GET.items()
                 if k not in ('limit', 'marker')]
        query += [('limit', str(self.limit)), ('marker', str(id_of(items[-1])))]
        href = pecan.request.path_url + '?' + urllib.parse.urlencode(query)
        return {key: items, key + '_links': [{'rel': 'next', 'href': href}]}
