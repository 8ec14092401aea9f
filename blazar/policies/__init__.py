"""Policy defaults in code; ``policy.yaml`` may override any rule."""
import itertools

from blazar.policies import availability
from blazar.policies import base
from blazar.policies import floatingips
from blazar.policies import hosts
from blazar.policies import leases
from blazar.policies import preemptions


def list_rules():
    return list(itertools.chain(base.list_rules(), leases.list_rules(),
                                hosts.list_rules(), availability.list_rules(),
                                floatingips.list_rules(),
                                preemptions.list_rules()))
