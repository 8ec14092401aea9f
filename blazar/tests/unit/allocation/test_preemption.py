from blazar.allocation import preemption

CAP = {'VCPU': 8, 'MEMORY_MB': 8192}


def occupants(*specs):
    return [('s%d' % i, {'VCPU': v, 'MEMORY_MB': m}, p)
            for i, (v, m, p) in enumerate(specs)]


def test_nothing_is_reclaimed_when_the_room_fits():
    assert preemption.choose(CAP, {'VCPU': 4}, occupants((2, 512, True),
                                                         (2, 512, True))) == ([], [])


def test_just_enough_newest_first():
    victims, blockers = preemption.choose(
        CAP, {'VCPU': 4, 'MEMORY_MB': 1024},
        occupants((2, 512, True), (2, 512, True), (2, 512, True), (2, 512, True)))
    assert victims == ['s0', 's1'] and blockers == []


def test_servers_that_free_nothing_needed_are_spared():
    # Short of memory only: the vCPU-only server is not taken.
    victims, _ = preemption.choose(
        CAP, {'MEMORY_MB': 4096},
        occupants((4, 0, True), (1, 4096, True), (1, 4096, True)))
    assert victims == ['s1']


def test_non_preemptibles_are_never_victims_and_block_when_too_big():
    victims, blockers = preemption.choose(
        CAP, {'VCPU': 6}, occupants((4, 0, False), (2, 0, True)))
    assert victims == ['s1'] and blockers == ['s0']
    victims, blockers = preemption.choose(
        CAP, {'VCPU': 4}, occupants((4, 0, False), (2, 0, True)))
    assert victims == ['s1'] and blockers == []
