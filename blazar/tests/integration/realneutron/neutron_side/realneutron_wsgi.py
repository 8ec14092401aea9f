"""gunicorn's entry point for neutron's API (``neutron.wsgi.api``).

Neutron parses ``sys.argv`` with oslo.config when the WSGI module is
imported, and gunicorn's own arguments would be taken for Neutron's: hide
them while Neutron loads (its configuration comes from
``OS_NEUTRON_CONFIG_DIR`` and ``OS_NEUTRON_CONFIG_FILES``).
"""
import sys

_argv = sys.argv
sys.argv = _argv[:1]
try:
    from neutron.wsgi.api import application  # noqa: F401
finally:
    sys.argv = _argv
