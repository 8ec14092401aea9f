"""Where the slow tiers keep what they install (Keystone, Horizon, upstream
Blazar, real Nova and Neutron virtualenvs): outside the checkout, so that
later runs and later clean clones on the same machine reuse them instead of
installing again. ``$BLAZAR_TEST_CACHE`` overrides the place; each tier's
own variable overrides its virtualenv."""
import os
import pathlib

CACHE = pathlib.Path(
    os.environ.get('BLAZAR_TEST_CACHE')
    or pathlib.Path(os.environ.get('XDG_CACHE_HOME') or pathlib.Path.home() / '.cache')
    / 'blazar-tests')


def venv(name, variable):
    """The virtualenv ``name`` of a tier, unless ``$variable`` names another."""
    return pathlib.Path(os.environ.get(variable) or CACHE / name)
