"""WSGI entry points at the paths deployment tools know (see api)."""
