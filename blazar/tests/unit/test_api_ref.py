"""The API reference (api-ref/source, os-api-ref) is what tools/api_ref.py
writes from the OpenAPI document today: every route, every parameter,
every example; and it builds without a warning (``tox -e api-ref``)."""
import importlib.util
import os
import re
import subprocess
import sys

import pytest
import yaml

from blazar.api import openapi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SOURCE = os.path.join(ROOT, 'api-ref', 'source')
BIN = os.path.dirname(sys.executable)


def _tool():
    spec = importlib.util.spec_from_file_location(
        'api_ref', os.path.join(ROOT, 'tools', 'api_ref.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_is_in_step_with_the_openapi_document():
    fresh = _tool().build(openapi.document())
    stale = []
    for name, text in fresh.items():
        path = os.path.join(SOURCE, name)
        if not os.path.exists(path) or open(path).read() != text:
            stale.append(name)
    extra = sorted(set('samples/' + n for n in os.listdir(os.path.join(SOURCE, 'samples')))
                   - set(fresh))
    assert not stale and not extra, (
        'api-ref/source is out of date (%s%s): run ".venv/bin/python tools/api_ref.py"'
        % (', '.join(stale[:10]), '; extra: %s' % ', '.join(extra) if extra else ''))


def test_every_route_parameter_and_example_is_there():
    index = open(os.path.join(SOURCE, 'index.rst')).read()
    params = yaml.safe_load(open(os.path.join(SOURCE, 'parameters.yaml')))
    doc = openapi.document()
    methods = set(re.findall(r'^\.\. rest_method:: (\w+) (\S+)$', index, re.M))
    assert methods == {(route.method.upper(), route.path) for route in openapi.ROUTES}
    referenced = set(re.findall(r'^   - \S+: (\S+)$', index, re.M))
    assert referenced <= set(params)
    for path, operations in doc['paths'].items():
        for method, op in operations.items():
            for param in op.get('parameters', []):
                key = param['name'] if param['in'] == 'path' else '%s.%s' % (
                    op['operationId'], param['name'])
                assert key in referenced, (method, path, param['name'])
                assert params[key]['in'] == param['in']
            body = op.get('requestBody', {}).get('content', {}).get('application/json')
            if body:
                for name in body['schema'].get('properties', {}):
                    assert '%s.req.%s' % (op['operationId'], name) in referenced
                assert 'samples/%s-req.json' % op['operationId'] in index
                if 'example' in body:
                    sample = open(os.path.join(
                        SOURCE, 'samples', '%s-req.json' % op['operationId'])).read()
                    assert yaml.safe_load(sample) == body['example']


def test_the_reference_builds_without_warnings(tmp_path):
    pytest.importorskip('os_api_ref', reason='os-api-ref is in test-requirements.txt')
    proc = subprocess.run(
        [os.path.join(BIN, 'sphinx-build'), '-W', '--keep-going', '-E', '-q', '-b', 'html',
         '-d', str(tmp_path / 'doctrees'), SOURCE, str(tmp_path / 'html')],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    html = (tmp_path / 'html' / 'index.html').read_text()
    assert html.count('class="endpoint-url"') == len(openapi.ROUTES)
