# Sphinx configuration of the Blazar release notes (reno).
#
#   tox -e releasenotes
#   (sphinx-build -a -E -W -b html releasenotes/source releasenotes/build/html)
extensions = ['reno.sphinxext']

try:
    import openstackdocstheme  # noqa: F401
except ImportError:
    html_theme = 'alabaster'
else:
    extensions.append('openstackdocstheme')
    html_theme = 'openstackdocs'
    openstackdocs_repo_name = 'openstack/blazar'
    openstackdocs_bug_project = 'blazar'
    openstackdocs_bug_tag = 'releasenotes'
    openstackdocs_auto_name = False
    openstackdocs_use_storyboard = False

project = 'Blazar Release Notes'
copyright = 'Blazar contributors'
author = 'Blazar contributors'
master_doc = 'index'
exclude_patterns = []
pygments_style = 'native'
html_static_path = []
# reno reads the notes from the git history; no version of its own here.
version = ''
release = ''
