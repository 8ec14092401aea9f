"""Release notes (reno): every note is valid YAML with known sections, and
``reno lint`` agrees."""
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
NOTES = os.path.join(ROOT, 'releasenotes', 'notes')
SECTIONS = {'prelude', 'features', 'issues', 'upgrade', 'deprecations',
            'critical', 'security', 'fixes', 'other'}
NAME = re.compile(r'^[a-z0-9][a-z0-9-]*-[0-9a-f]{16}\.yaml$')


def notes():
    return sorted(os.listdir(NOTES))


@pytest.mark.parametrize('name', notes())
def test_note_is_yaml_with_known_sections(name):
    assert NAME.match(name), (
        '%s: name release notes "<slug>-<16 hex digits>.yaml" (reno new <slug>)' % name)
    with open(os.path.join(NOTES, name)) as f:
        try:
            note = yaml.safe_load(f)
        except yaml.YAMLError as exc:
            pytest.fail('%s is not valid YAML: %s' % (name, exc))
    assert isinstance(note, dict) and note, '%s: a note is a mapping of sections' % name
    unknown = set(note) - SECTIONS
    assert not unknown, '%s: unknown section(s) %s; use %s' % (
        name, sorted(unknown), sorted(SECTIONS))
    for section, entries in note.items():
        if section == 'prelude':
            assert isinstance(entries, str) and entries.strip(), name
            continue
        assert isinstance(entries, list) and entries, (
            '%s: %s must be a list of items ("- |" blocks)' % (name, section))
        for entry in entries:
            assert isinstance(entry, str) and entry.strip(), (
                '%s: every %s item is non-empty text' % (name, section))


def test_reno_lint():
    reno = os.path.join(os.path.dirname(sys.executable), 'reno')
    if not os.path.exists(reno):
        reno = shutil.which('reno')
    assert reno, 'reno is not installed: it is in test-requirements.txt'
    inside_git = subprocess.run(['git', 'rev-parse', '--is-inside-work-tree'],
                                cwd=ROOT, capture_output=True, text=True)
    if inside_git.returncode != 0:
        pytest.skip('reno lint reads the git history and this is no git checkout')
    proc = subprocess.run([reno, '-q', 'lint'], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, 'reno lint failed:\n%s%s' % (proc.stdout,
                                                             proc.stderr[-4000:])
