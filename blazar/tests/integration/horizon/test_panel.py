"""The Reservations panel of Horizon, as a tenant and as the operator see
it, against this service (see conftest.py for the stack).

The tests run in file order and build on each other like a person's
session would: the tenant's leases made in the first tests are the ones
prolonged, deleted, and seen by the operator in the allocation view. A
test whose starting point is missing fails saying so (never skips).
Every assertion is on text of the page the browser shows; each page is
kept as a screenshot.
"""
import datetime
import json
import re
import time

import pytest

from blazar.tests.integration.horizon import conftest

TENANT, OTHER_TENANT, OPERATOR = 'a-member', 'b-member', 'admin'
HOST_LEASE, INSTANCE_LEASE, RENAMED = 'web-hosts', 'web-instances', 'web-instances-2'
DISPLAY_FORMAT = '%Y-%m-%d %H:%M UTC'     # the panel's dates: 'Y-m-d H:i T'
STATUS_DEADLINE = 120                     # s, for a lease to reach a status

# What the tests made, for the tests after them: name -> lease id.
made = {}


def _utc(minutes):
    """A date ``minutes`` from now, as typed in the form (UTC)."""
    return (datetime.datetime.now(datetime.timezone.utc)
            + datetime.timedelta(minutes=minutes)).strftime('%Y-%m-%d %H:%M')


def _leases(board):
    board.open('/project/leases/')
    return board.page.locator('table#leases')


def _row(board, name):
    return board.page.locator('table#leases tbody tr', has=board.page.locator(
        'td a', has_text=re.compile('^%s$' % re.escape(name))))


def _cells(row):
    """The row's cells by column header: name, start, end, status."""
    texts = [t.strip() for t in row.locator('td').all_inner_texts()]
    # A checkbox column comes first (the table's "Delete Leases" action).
    texts = texts[-6:]
    columns = ('name', 'start', 'end', 'status', 'degraded', 'actions')
    return dict(zip(columns, texts, strict=False))


def _wait_for_row(board, name, **wanted):
    """Reload the list until the lease's cells show ``wanted`` (e.g.
    ``status='ACTIVE'``); its cells then."""
    deadline = time.monotonic() + STATUS_DEADLINE
    while True:
        _leases(board)
        row = _row(board, name)
        assert row.count() == 1, 'lease %s not listed:\n%s' % (
            name, board.page.inner_text('body'))
        cells = _cells(row)
        if all(cells[key] == value for key, value in wanted.items()):
            return cells
        assert cells['status'] != 'ERROR', cells
        assert time.monotonic() < deadline, (
            'lease %s is %s after %d s, not %s' % (name, cells, STATUS_DEADLINE, wanted))
        time.sleep(1)


def _open_create_form(board):
    _leases(board)
    board.page.click('a#leases__action_create')
    board.page.wait_for_selector('.modal form #id_name')
    return board.page.locator('.modal')


def _choose(modal, select_id, label):
    """Pick ``label`` in one of Horizon's themable selects (a button with a
    dropdown over a hidden <select>)."""
    group = modal.locator('.themable-select:has(select#%s)' % select_id)
    group.locator('button.dropdown-toggle').click()
    group.locator('ul.dropdown-menu a', has_text=re.compile('^%s$' % re.escape(label))).click()


def _outcome(board, modal):
    """Submit the modal form; the message Horizon shows then (success or
    error, or the form's field errors) and whether it is a success."""
    modal.locator('.modal-footer [type=submit]').click()
    outcome = board.page.locator('.alert-success, .alert-danger, .modal .has-error').first
    outcome.wait_for()
    return outcome.inner_text(), 'alert-success' in outcome.get_attribute('class')


def _submit(board, modal):
    """Submit the modal form; the success message (a failure's message and
    Horizon's log otherwise)."""
    text, succeeded = _outcome(board, modal)
    assert succeeded, '%s\n--- horizon log ---\n%s' % (text, board.horizon.logs(2000))
    return text


def _detail(board, name):
    _leases(board)
    _row(board, name).locator('td a', has_text=name).click()
    board.page.wait_for_selector('.detail dl')
    return board.page.inner_text('.detail')


def _lease_id(detail_text):
    return re.search(r'^Id\s+([0-9a-f-]{36})$', detail_text, re.M).group(1)


def test_a_tenant_lists_its_leases(dashboard):
    board = dashboard(TENANT)
    table = _leases(board)
    assert 'Leases' in board.page.inner_text('h1')
    headers = table.locator('thead th').all_inner_texts()
    for column in ('Lease name', 'Start date', 'End date', 'Status', 'Degraded'):
        assert column in [h.strip() for h in headers]
    assert 'No items to display.' in table.inner_text()
    board.shot('tenant-leases-empty')


def test_a_tenant_creates_a_host_lease_through_the_form(dashboard):
    board = dashboard(TENANT)
    modal = _open_create_form(board)
    end = _utc(120)
    modal.locator('#id_name').fill(HOST_LEASE)
    modal.locator('#id_end_date').fill(end)          # start left blank: now
    modal.locator('#id_min_hosts').fill('1')
    modal.locator('#id_max_hosts').fill('2')
    modal.locator('#id_hypervisor_properties').fill('[">=", "$vcpus", "4"]')
    modal.locator('#id_resource_properties').fill('["==", "$gpu", "a100"]')
    board.shot('tenant-create-host-lease-form')
    assert 'Lease %s was successfully created.' % HOST_LEASE in _submit(board, modal)

    cells = _wait_for_row(board, HOST_LEASE, status='ACTIVE')
    assert cells['end'] == end + ' UTC'
    assert cells['degraded'] == 'No'
    board.shot('tenant-leases-host-lease-active')

    detail = _detail(board, HOST_LEASE)
    made[HOST_LEASE] = _lease_id(detail)
    assert 'physical:host' in detail
    assert re.search(r'^status\s+active$', detail, re.M), detail
    assert re.search(r'^min\s+1$', detail, re.M) and re.search(r'^max\s+2$', detail, re.M)
    assert '["==", "$gpu", "a100"]' in detail
    assert re.search(r'^start_lease$', detail, re.M) and 'Done' in detail
    board.shot('tenant-host-lease-detail')


def test_a_tenant_is_told_why_a_lease_cannot_be_made(dashboard):
    """The service's 409 reaches the form: both gpu=a100 hosts are taken."""
    board = dashboard(TENANT)
    modal = _open_create_form(board)
    modal.locator('#id_name').fill('one-too-many')
    modal.locator('#id_end_date').fill(_utc(60))
    modal.locator('#id_resource_properties').fill('["==", "$gpu", "a100"]')
    text, succeeded = _outcome(board, modal)
    assert not succeeded, text
    assert 'An error occurred while creating this lease' in text, text
    assert 'Not enough hosts available' in text, text
    board.shot('tenant-create-lease-refused')
    _leases(board)
    assert _row(board, 'one-too-many').count() == 0


def test_a_tenant_creates_an_instance_lease_through_the_form(dashboard):
    board = dashboard(TENANT)
    modal = _open_create_form(board)
    start, end = _utc(60), _utc(180)
    modal.locator('#id_name').fill(INSTANCE_LEASE)
    modal.locator('#id_start_date').fill(start)
    modal.locator('#id_end_date').fill(end)
    _choose(modal, 'id_resource_type', 'Virtual Instance')
    modal.locator('#id_amount').fill('3')
    modal.locator('#id_vcpus').fill('2')
    modal.locator('#id_memory_mb').fill('4096')
    modal.locator('#id_disk_gb').fill('20')
    # The host lease holds both gpu=a100 hosts: all three on the third one.
    _choose(modal, 'id_affinity', 'Affinity')
    board.shot('tenant-create-instance-lease-form')
    assert 'Lease %s was successfully created.' % INSTANCE_LEASE in _submit(board, modal)

    cells = _wait_for_row(board, INSTANCE_LEASE, status='PENDING')
    assert (cells['start'], cells['end']) == (start + ' UTC', end + ' UTC')
    board.shot('tenant-leases-both')

    detail = _detail(board, INSTANCE_LEASE)
    made[INSTANCE_LEASE] = _lease_id(detail)
    assert 'virtual:instance' in detail
    for key, value in (('amount', '3'), ('vcpus', '2'), ('memory_mb', '4096'),
                       ('disk_gb', '20'), ('affinity', 'Yes')):
        assert re.search(r'^%s\s+%s$' % (key, value), detail, re.M), (key, detail)
    board.shot('tenant-instance-lease-detail')


def test_a_tenant_prolongs_its_host_lease(dashboard):
    assert HOST_LEASE in made, 'needs the host lease of the test before'
    board = dashboard(TENANT)
    _leases(board)
    before = _cells(_row(board, HOST_LEASE))
    _row(board, HOST_LEASE).locator('a', has_text='Update Lease').click()
    modal = board.page.locator('.modal')
    modal.locator('#id_end_time').wait_for()
    modal.locator('#id_end_time').fill('+1h')
    board.shot('tenant-update-lease-form')
    assert 'Lease update started.' in _submit(board, modal)

    expected = (datetime.datetime.strptime(before['end'], DISPLAY_FORMAT)
                + datetime.timedelta(hours=1)).strftime(DISPLAY_FORMAT)
    _wait_for_row(board, HOST_LEASE, status='ACTIVE', end=expected)
    board.shot('tenant-leases-host-lease-prolonged')


def test_a_tenant_renames_its_instance_lease(dashboard):
    """An instance lease's update form offers the name only."""
    assert INSTANCE_LEASE in made, 'needs the instance lease of the tests before'
    board = dashboard(TENANT)
    _leases(board)
    _row(board, INSTANCE_LEASE).locator('a', has_text='Update Lease').click()
    modal = board.page.locator('.modal')
    modal.locator('#id_lease_name').wait_for()
    assert modal.locator('#id_end_time').count() == 0
    modal.locator('#id_lease_name').fill(RENAMED)
    assert 'Lease update started.' in _submit(board, modal)
    cells = _wait_for_row(board, RENAMED, status='PENDING')
    assert _row(board, INSTANCE_LEASE).count() == 0, cells
    board.shot('tenant-leases-renamed')


def test_a_tenant_deletes_its_instance_lease(dashboard):
    assert INSTANCE_LEASE in made, 'needs the instance lease of the tests before'
    board = dashboard(TENANT)
    _leases(board)
    row = _row(board, RENAMED)
    row.locator('.dropdown-toggle').click()
    row.locator('button', has_text='Delete Lease').click()
    confirm = board.page.locator('.modal', has_text='Confirm Delete Lease')
    confirm.wait_for()
    assert RENAMED in confirm.inner_text()
    board.shot('tenant-delete-lease-confirm')
    confirm.locator('.modal-footer .btn-danger').click()
    board.page.wait_for_selector('.alert-success')
    assert 'Deleted Lease: %s' % RENAMED in board.page.inner_text('.alert-success')

    deadline = time.monotonic() + STATUS_DEADLINE
    while _row(board, RENAMED).count():
        assert time.monotonic() < deadline, 'the deleted lease is still listed'
        time.sleep(1)
        _leases(board)
    assert _row(board, HOST_LEASE).count() == 1
    board.shot('tenant-leases-after-delete')


def test_another_tenant_sees_none_of_them(dashboard):
    board = dashboard(OTHER_TENANT)
    table = _leases(board)
    assert 'No items to display.' in table.inner_text()
    assert HOST_LEASE not in board.page.inner_text('body')
    board.shot('other-tenant-leases')


def test_the_operator_sees_the_hosts_and_their_properties(dashboard):
    board = dashboard(OPERATOR)
    board.open('/admin/hosts/')
    table = board.page.locator('table#hosts')
    for name in conftest.HOSTS:
        row = table.locator('tbody tr', has_text=name)
        assert row.count() == 1, table.inner_text()
        text = row.inner_text()
        assert '16' in text and '64GB' in text and 'Yes' in text, text
    board.shot('operator-hosts')

    table.locator('td a', has_text='compute-1').click()
    board.page.wait_for_selector('.detail dl')
    detail = board.page.inner_text('.detail')
    assert re.search(r'^Host name\s+compute-1$', detail, re.M), detail
    assert re.search(r'^gpu\s+a100$', detail, re.M), detail
    assert re.search(r'^rack\s+r1$', detail, re.M), detail
    assert re.search(r'^model\s+Nehalem$', detail, re.M), detail   # cpu_info
    board.shot('operator-host-detail')


def test_the_operator_updates_a_host_property(dashboard):
    board = dashboard(OPERATOR)
    board.open('/admin/hosts/')
    row = board.page.locator('table#hosts tbody tr', has_text='compute-3')
    row.locator('a', has_text='Update Host').click()
    modal = board.page.locator('.modal')
    modal.locator('#id_values').fill(json.dumps({'rack': 'r9'}))
    board.shot('operator-update-host-form')
    assert 'Host was successfully updated.' in _submit(board, modal)
    board.page.locator('table#hosts td a', has_text='compute-3').click()
    board.page.wait_for_selector('.detail dl')
    assert re.search(r'^rack\s+r9$', board.page.inner_text('.detail'), re.M)
    board.shot('operator-host-updated')


def test_the_operator_sees_the_allocations(dashboard):
    assert HOST_LEASE in made, 'needs the host lease of the tests before'
    board = dashboard(OPERATOR)
    page = board.open('/project/leases/calendar/host/')
    # The chart is drawn from resources.json: hosts, and the reservations
    # on them (the service's /os-hosts/allocations).
    data = page.evaluate('''async () => {
        const resp = await fetch("resources.json");
        return {status: resp.status, body: await resp.json()};
    }''')
    assert data['status'] == 200, data
    body = data['body']
    assert sorted(r['hypervisor_hostname'] for r in body['resources']) == sorted(conftest.HOSTS)
    booked = {r['hypervisor_hostname'] for r in body['reservations']}
    assert booked and booked <= {'compute-1', 'compute-2'}, body     # the gpu=a100 hosts
    page.wait_for_selector('.apexcharts-canvas')
    chart = page.inner_text('#blazar-calendar-host')
    for name in booked:
        assert name in chart, chart
    board.shot('operator-host-calendar')


@pytest.fixture(scope='module', autouse=True)
def _report_screenshots(screenshots):
    yield
    print('\nscreenshots:\n' + '\n'.join(str(p) for p in screenshots.taken))
