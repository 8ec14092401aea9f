# Sphinx configuration of the Blazar API reference (os-api-ref).
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
