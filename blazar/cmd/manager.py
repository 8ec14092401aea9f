"""blazar-manager: RPC server, resource plugins and the event loop."""
import logging

from blazar import service
from blazar.manager import service as manager_service

LOG = logging.getLogger(__name__)


def main():
    service.prepare()
    service.check_schema()
    manager = manager_service.ManagerService()
    manager.start()
    service.wait_for_signal()
    LOG.info('blazar-manager stopping')
    manager.stop()


if __name__ == '__main__':
    main()
