"""The built-in enforcement filters (entry points in setup.cfg)."""
