"""OpenStackClient commands of this project (``openstack reservation ...``).

They plug into python-blazarclient's ``reservation`` client (entry points of
the ``openstack.reservation.v1`` group in setup.cfg) and call the endpoints
that client does not know: availability, offerings, calendar and usage.
"""
