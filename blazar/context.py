"""Request context: who asks, and the database transaction they are in.

The same object travels API -> RPC -> manager (as a dict) and is the handle
``blazar.db.api`` uses to join an enclosing transaction.
"""
from oslo_context import context
from oslo_db.sqlalchemy import enginefacade


@enginefacade.transaction_context_provider
class RequestContext(context.RequestContext):

    @property
    def is_admin_role(self):
        return 'admin' in (self.roles or [])

    def to_policy_values(self):
        values = super().to_policy_values()
        values['is_admin'] = self.is_admin
        return values

    def elevated(self):
        ctx = self.__class__.from_dict(self.to_dict())
        ctx.is_admin = True
        if 'admin' not in ctx.roles:
            ctx.roles = list(ctx.roles) + ['admin']
        return ctx


def get_admin_context():
    """Context of the service itself (event loop, monitors)."""
    return RequestContext(user_id=None, project_id=None, is_admin=True,
                          roles=['admin'], overwrite=False)
