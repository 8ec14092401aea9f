# Sphinx configuration of the Blazar documentation.
#
#   tox -e docs     (sphinx-build -W -b html doc/source doc/build/html)
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, ROOT)

project = 'Blazar'
copyright = 'Blazar contributors'
author = 'Blazar contributors'

extensions = [
    'oslo_config.sphinxext',   # show-options, :oslo.config:option: roles
    'oslo_policy.sphinxext',   # show-policy
]

try:
    import openstackdocstheme  # noqa: F401
except ImportError:
    html_theme = 'alabaster'
else:
    extensions.append('openstackdocstheme')
    html_theme = 'openstackdocs'
    openstackdocs_repo_name = 'openstack/blazar'
    openstackdocs_bug_project = 'blazar'
    openstackdocs_bug_tag = 'doc'
    openstackdocs_auto_name = False
    openstackdocs_use_storyboard = False

master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'
html_title = 'Blazar documentation'
html_static_path = []
# Examples are JSON; the reference shows them as such.
highlight_language = 'none'
