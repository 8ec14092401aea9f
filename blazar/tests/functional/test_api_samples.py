"""The request/response examples of the API reference are what the API
answers today: tools/api_samples.py replays them against the real service
and this test fails when a committed example differs."""
import filecmp
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SAMPLES = os.path.join(ROOT, 'doc', 'source', 'api', 'samples')
HINT = ('run ".venv/bin/python tools/api_samples.py" and commit '
        'doc/source/api/samples')


def test_api_reference_examples_are_current(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'api_samples.py'),
                           str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, 'tools/api_samples.py failed:\n%s%s' % (
        proc.stdout[-2000:], proc.stderr[-4000:])
    fresh = sorted(os.listdir(tmp_path))
    committed = sorted(f for f in os.listdir(SAMPLES) if f.endswith('.json'))
    assert fresh == committed, 'the set of examples changed: %s' % HINT
    _match, mismatch, errors = filecmp.cmpfiles(SAMPLES, tmp_path, fresh, shallow=False)
    details = []
    for name in mismatch:
        with open(os.path.join(SAMPLES, name)) as old, \
                open(os.path.join(tmp_path, name)) as new:
            details.append('%s:\n--- committed\n%s\n--- now\n%s'
                           % (name, old.read()[:1500], new.read()[:1500]))
    assert not mismatch and not errors, 'API examples out of date (%s):\n%s' % (
        HINT, '\n'.join(details))


def test_every_example_is_used_in_the_reference():
    text = ''
    api_dir = os.path.join(ROOT, 'doc', 'source', 'api')
    for name in os.listdir(api_dir):
        if name.endswith('.rst'):
            with open(os.path.join(api_dir, name)) as f:
                text += f.read()
    unused = [f for f in os.listdir(SAMPLES)
              if f.endswith('.json') and 'samples/' + f not in text]
    assert not unused, 'examples not shown in doc/source/api: %s' % unused
