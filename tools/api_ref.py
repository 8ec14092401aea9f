#!/usr/bin/env python3
"""Write the API reference (os-api-ref) from the OpenAPI document.

    .venv/bin/python tools/api_ref.py [OUTPUT_DIR]

writes OUTPUT_DIR (default api-ref/source): index.rst with one
``rest_method`` per operation of ``blazar.api.openapi`` (its summary, its
normal and error codes, its path, query and body parameters, its request
and response examples), parameters.yaml, and samples/*.json. The examples
are the document's own (a request's ``example``) or built from the
schemas. blazar/tests/unit/test_api_ref.py fails when the committed files
differ from what this writes; ``tox -e api-ref`` builds the HTML.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
DEFAULT_OUTPUT = os.path.join(ROOT, 'api-ref', 'source')
SECTIONS = [
    ('API versions', ('/', '/versions', '/v1', '/v1/openapi.json')),
    ('Leases', ('/v1/leases',)),
    ('Hosts', ('/v1/os-hosts',)),
    ('Preemptions', ('/v1/preemptions',)),
    ('Availability and offerings', ('/v1/availability', '/v1/offerings')),
    ('Calendar and usage', ('/v1/calendar', '/v1/usage')),
]
IN_ORDER = {'header': 1, 'path': 2, 'query': 3, 'body': 4}
CONF_PY = '''# Sphinx configuration of the Blazar API reference (os-api-ref).
#
#   tox -e api-ref
# The .rst, parameters.yaml and samples are written by tools/api_ref.py
# from the OpenAPI document: edit blazar/api/openapi.py, then run it.
extensions = ['os_api_ref']

try:
    import openstackdocstheme  # noqa: F401
except ImportError:
    html_theme = 'alabaster'
else:
    extensions.append('openstackdocstheme')
    html_theme = 'openstackdocs'
    html_theme_options = {'sidebar_mode': 'toc'}
    openstackdocs_repo_name = 'openstack/blazar'
    openstackdocs_bug_project = 'blazar'
    openstackdocs_bug_tag = 'api-ref'
    openstackdocs_auto_name = False
    openstackdocs_use_storyboard = False

project = 'Reservation API Reference'
copyright = 'Blazar contributors'
author = 'Blazar contributors'
master_doc = 'index'
exclude_patterns = []
pygments_style = 'native'
html_static_path = []
'''


def _section(path):
    best = None
    for title, prefixes in SECTIONS:
        for prefix in prefixes:
            if path == prefix or (prefix != '/' and path.startswith(prefix + '/')):
                if best is None or len(prefix) > len(best[1]):
                    best = (title, prefix)
    return best[0] if best else 'Other'


def _type(schema):
    if not isinstance(schema, dict):
        return 'string'
    for key in ('anyOf', 'oneOf'):
        if key in schema and 'type' not in schema:
            types = sorted({_type(s) for s in schema[key]})
            return ' or '.join(types)
    kind = schema.get('type', 'object' if 'properties' in schema else 'string')
    return {'number': 'float'}.get(kind, kind)


def _properties(schema):
    """Properties of an object schema (the alternatives of a oneOf merged)."""
    if not isinstance(schema, dict):
        return {}
    found = dict(schema.get('properties', {}))
    for key in ('oneOf', 'anyOf', 'allOf'):
        for alternative in schema.get(key, []):
            for name, sub in _properties(alternative).items():
                found.setdefault(name, sub)
    return found


def _required(schema):
    required = set(schema.get('required', [])) if isinstance(schema, dict) else set()
    for key in ('oneOf', 'anyOf'):
        alternatives = schema.get(key, []) if isinstance(schema, dict) else []
        if alternatives:
            required |= set.intersection(*[set(a.get('required', []))
                                           for a in alternatives])
    return required


def _fields(schema, prefix='', depth=0):
    """(dotted name, schema, required) of a body's fields, two levels deep
    (the members of a wrapped object or of a list's objects too)."""
    required = _required(schema)
    out = []
    for name, sub in sorted(_properties(schema).items()):
        dotted = prefix + name
        out.append((dotted, sub, name in required))
        if depth == 0:
            inner = sub.get('items', {}) if _type(sub) == 'array' else sub
            if _properties(inner):
                out += _fields(inner, dotted + '.', depth + 1)
    return out


def _describe(name, schema):
    text = schema.get('description') if isinstance(schema, dict) else None
    if not text:
        text = 'The ``%s``' % name.rsplit('.', 1)[-1]
    text = text[0].upper() + text[1:]
    if not text.endswith('.'):
        text += '.'
    if isinstance(schema, dict):
        if schema.get('enum'):
            text += ' One of: %s.' % ', '.join(
                '``%s``' % v if v not in ('', None) else ('empty' if v == '' else 'null')
                for v in schema['enum'])
        if schema.get('nullable'):
            text += ' May be null.'
    return text


def example(schema, name='value', depth=0):
    """A value the schema accepts, the same on every run."""
    if not isinstance(schema, dict) or depth > 6:
        return name
    if 'example' in schema:
        return schema['example']
    if schema.get('enum'):
        return schema['enum'][0]
    for key in ('oneOf', 'anyOf'):
        if key in schema and not schema.get('properties'):
            return example(schema[key][0], name, depth + 1)
    kind = _type(schema).split(' or ')[0]
    if kind == 'object':
        props = _properties(schema)
        return {key: example(sub, key, depth + 1) for key, sub in sorted(props.items())}
    if kind == 'array':
        return [example(schema.get('items', {}), name, depth + 1)]
    if kind == 'integer':
        return max(schema.get('minimum', 1), 1) if 'minimum' in schema else 1
    if kind == 'float':
        return 1.0
    if kind == 'boolean':
        return False
    if 'date' in name:
        return '2030-01-10 08:00'
    if name == 'id' or name.endswith('_id'):
        return '1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b'
    return name


def _body_schema(entry):
    return entry.get('content', {}).get('application/json', {}).get('schema')


def build(doc):
    """{relative path: text} of the whole reference."""
    files = {'conf.py': CONF_PY}
    params = {}
    sections = {}
    for path, methods in doc['paths'].items():
        for method in ('get', 'post', 'put', 'patch', 'delete'):
            if method in methods:
                sections.setdefault(_section(path), []).append((path, method, methods[method]))
    lines = ['.. rest_expand_all::', '',
             '==========================', 'Reservation API Reference',
             '==========================', '',
             doc['info']['description'], '']
    for title, _prefixes in SECTIONS:
        entries = sections.get(title)
        if not entries:
            continue
        lines += [title, '=' * len(title), '']
        for path, method, op in entries:
            opid = op['operationId']
            status = sorted(code for code in op['responses'] if code.startswith(('2', '3')))
            errors = sorted(code for code in op['responses'] if code not in status)
            lines += [op['summary'], '-' * len(op['summary']), '',
                      '.. rest_method:: %s %s' % (method.upper(), path), '']
            refusals = op.get('x-refusals') or []
            if refusals:
                lines += ['A valid request is still refused (400) when:', '']
                lines += ['- %s' % r['reason'] for r in refusals]
                lines += ['']
            lines += ['Normal response codes: %s' % ', '.join(status), '',
                      'Error response codes: %s' % ', '.join(errors), '']
            request = []
            for param in op.get('parameters', []):
                key = param['name'] if param['in'] == 'path' else '%s.%s' % (
                    opid, param['name'])
                params[key] = {'in': param['in'], 'required': param['required'],
                               'type': _type(param['schema']),
                               'description': _describe(param['name'], param['schema'])}
                request.append((param['name'], key))
            body = _body_schema(op.get('requestBody', {}))
            for name, sub, required in (_fields(body) if body else []):
                key = '%s.req.%s' % (opid, name)
                params[key] = {'in': 'body', 'required': required, 'type': _type(sub),
                               'description': _describe(name, sub)}
                request.append((name, key))
            if request:
                lines += ['Request', '~~~~~~~', '', '.. rest_parameters:: parameters.yaml', '']
                lines += ['   - %s: %s' % (name, key) for name, key in request]
                lines += ['']
            if body:
                sample = op['requestBody']['content']['application/json'].get(
                    'example', example(body))
                files['samples/%s-req.json' % opid] = json.dumps(
                    sample, indent=4, sort_keys=True) + '\n'
                lines += ['**Example request**', '',
                          '.. literalinclude:: samples/%s-req.json' % opid,
                          '   :language: javascript', '']
            answer = _body_schema(op['responses'][status[0]]) if status else None
            if answer:
                response = []
                for name, sub, _required in _fields(answer):
                    key = '%s.resp.%s' % (opid, name)
                    params[key] = {'in': 'body', 'required': True, 'type': _type(sub),
                                   'description': _describe(name, sub)}
                    response.append((name, key))
                if response:
                    lines += ['Response', '~~~~~~~~', '',
                              '.. rest_parameters:: parameters.yaml', '']
                    lines += ['   - %s: %s' % (name, key) for name, key in response]
                    lines += ['']
                files['samples/%s-resp.json' % opid] = json.dumps(
                    example(answer), indent=4, sort_keys=True) + '\n'
                lines += ['**Example response**', '',
                          '.. literalinclude:: samples/%s-resp.json' % opid,
                          '   :language: javascript', '']
    files['index.rst'] = '\n'.join(lines).rstrip('\n') + '\n'
    ordered = sorted(params.items(), key=lambda kv: (IN_ORDER[kv[1]['in']], kv[0].lower()))
    out = []
    for key, value in ordered:
        out += ['%s:' % key,
                '  description: |',
                ] + ['    %s' % line for line in value['description'].splitlines()] + [
                '  in: %s' % value['in'],
                '  required: %s' % ('true' if value['required'] else 'false'),
                '  type: %s' % value['type'], '']
    files['parameters.yaml'] = '\n'.join(out)
    return files


def write(output=DEFAULT_OUTPUT):
    from blazar.api import openapi
    files = build(openapi.document())
    samples = os.path.join(output, 'samples')
    os.makedirs(samples, exist_ok=True)
    for name in os.listdir(samples):
        if 'samples/' + name not in files:
            os.remove(os.path.join(samples, name))
    for name, text in files.items():
        with open(os.path.join(output, name), 'w') as f:
            f.write(text)
    return files


if __name__ == '__main__':
    written = write(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUTPUT)
    print('Wrote %d files' % len(written))
