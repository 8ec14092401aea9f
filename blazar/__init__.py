"""Blazar: resource reservation service for OpenStack clouds."""
import warnings

# Blazar runs on native threads; eventlet is only installed as a dependency
# of oslo libraries, which warn about it on import.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
