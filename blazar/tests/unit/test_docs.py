"""The documentation builds without a single warning (``tox -e docs``)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def test_sphinx_build_has_no_warnings(tmp_path):
    sphinx_build = os.path.join(os.path.dirname(sys.executable), 'sphinx-build')
    assert os.path.exists(sphinx_build), \
        'sphinx-build is not installed: sphinx is in test-requirements.txt'
    proc = subprocess.run(
        [sphinx_build, '-W', '--keep-going', '-q', '-b', 'html',
         '-d', str(tmp_path / 'doctrees'),
         os.path.join(ROOT, 'doc', 'source'), str(tmp_path / 'html')],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    problems = [line for line in proc.stderr.splitlines()
                if 'WARNING' in line or 'ERROR' in line]
    assert proc.returncode == 0 and not problems, (
        'the documentation has warnings (run "tox -e docs"):\n%s\n%s'
        % ('\n'.join(problems), proc.stderr[-4000:]))
    assert (tmp_path / 'html' / 'index.html').exists()
    for page in ('install/manual', 'configuration/config-reference',
                 'configuration/policy', 'admin/hosts', 'user/host-reservations',
                 'api/leases'):
        assert (tmp_path / 'html' / (page + '.html')).exists(), page
