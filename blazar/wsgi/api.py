"""The API for uwsgi/gunicorn at upstream Blazar's path:
``blazar.wsgi.api:application``.

Deployment tools written for upstream Blazar (DevStack, Kolla,
OpenStack-Ansible) point their WSGI server here. It is the same application
as ``blazar.api.wsgi:application``: it reads ``$BLAZAR_CONFIG_FILE`` (or
``/etc/blazar/blazar.conf``) when first imported.
"""
from blazar.api import wsgi as _wsgi

init_application = _wsgi.init_application
application = _wsgi.application
