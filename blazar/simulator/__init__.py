"""An in-memory cloud speaking the parts of the Nova compute and Placement
APIs Blazar uses.

It exists so the service and its tests can run against real HTTP and the
real python-novaclient / keystoneauth without deploying Nova: ``state``
holds the cloud, ``placement_state`` its Placement (resource providers,
inventories, traits, allocations), ``scheduler`` mimics Nova's filter
scheduler behind Placement plus the blazar-nova filter, ``app`` is the WSGI
front end (compute under ``/v2.1``, Placement under ``/placement``, see
``api_placement``) and ``server`` runs it in a thread.
``faults`` lets tests make chosen requests fail (``Cloud.inject_fault``)
and see which were made (``Cloud.requests``).
"""
