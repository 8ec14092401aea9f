"""The release notes build without a warning (``tox -e releasenotes``)
and every note passes ``reno lint``."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)


def test_release_notes_build(tmp_path):
    proc = subprocess.run(
        [os.path.join(BIN, 'sphinx-build'), '-a', '-E', '-W', '-q', '-b', 'html',
         '-d', str(tmp_path / 'doctrees'), os.path.join(ROOT, 'releasenotes', 'source'),
         str(tmp_path / 'html')], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'Current Series Release Notes' in (tmp_path / 'html' / 'unreleased.html').read_text()


def test_reno_lint():
    proc = subprocess.run([os.path.join(BIN, 'reno'), 'lint'], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
