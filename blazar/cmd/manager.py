"""blazar-manager: RPC server, resource plugins and the event loop, in a
worker process under a supervisor (blazar/launcher.py)."""
import logging

from blazar import launcher
from blazar import service

LOG = logging.getLogger(__name__)


class ManagerService(launcher.Service):
    name = 'blazar-manager'

    def start(self):
        from blazar.manager import service as manager_service
        self.manager = manager_service.ManagerService()
        self.manager.start()

    def stop(self, deadline):
        manager = getattr(self, 'manager', None)
        if manager is not None:
            manager.stop(deadline)


def main():
    service.prepare(reports='blazar-manager')
    service.check_schema()
    launcher.launch(ManagerService)


if __name__ == '__main__':
    main()
