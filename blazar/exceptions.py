"""Errors the service raises on purpose, each carrying its HTTP status.

They travel unchanged from the manager to the API over RPC (oslo.messaging
rebuilds classes of this module on the caller's side), so the API answers the
manager's status and message, never a bare 500.
"""


class BlazarException(Exception):
    msg_fmt = "An unknown error occurred."
    code = 500

    def __init__(self, message=None, **kwargs):
        # kwargs is read by oslo.messaging when it serialises the error; keep
        # it JSON-friendly.
        self.kwargs = {k: str(v) for k, v in kwargs.items()}
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError, ValueError):
                message = self.msg_fmt
        self.message = str(message)
        super().__init__(self.message)

    @property
    def name(self):
        return type(self).__name__


# --- 400 -----------------------------------------------------------------
class InvalidInput(BlazarException):
    msg_fmt = "%(reason)s"
    code = 400


class MissingParameter(InvalidInput):
    msg_fmt = "Missing parameter %(param)s"


class MalformedParameter(InvalidInput):
    msg_fmt = "Malformed parameter %(param)s: %(reason)s"


class InvalidDate(InvalidInput):
    msg_fmt = ("%(date)s is an invalid date for %(field)s. Required format: "
               "'YYYY-MM-DD HH:MM' (UTC) or 'now'")


class InvalidRange(InvalidInput):
    msg_fmt = "Invalid values for min/max of %(what)s. %(reason)s"

    #: Upstream's words for max below min (the rest of the reason follows).
    MAX_BELOW_MIN = 'Max must be equal to or larger than min.'


class MalformedRequirements(InvalidInput):
    msg_fmt = "Malformed requirements %(rqrms)s: %(reason)s"


class ExtraCapabilityTooLong(InvalidInput):
    msg_fmt = ("Extra capability key too long: %(key)s is longer than 64 "
               "characters")


class UnsupportedResourceType(InvalidInput):
    msg_fmt = "The %(resource_type)s resource type is not supported"


class FloatingIPNetworkNotFound(InvalidInput):
    msg_fmt = "Failed to find network %(network)s: %(reason)s"


class InvalidIPFormat(InvalidInput):
    msg_fmt = "%(ip)s is an invalid IP format"


class FloatingIPInAllocationPool(InvalidInput):
    msg_fmt = ("Floating IP %(address)s is in the allocation pool %(pool)s of subnet "
               "%(subnet)s: Neutron hands those out, so it cannot be reserved")


class FloatingIPAlreadyExists(InvalidInput):
    msg_fmt = ("Floating IP %(address)s of subnet %(subnet)s is already registered")


class InvalidMicroversion(InvalidInput):
    msg_fmt = "Invalid OpenStack-API-Version header: %(reason)s"


# --- 401/403 -------------------------------------------------------------
class NotAuthenticated(BlazarException):
    msg_fmt = "Authentication required"
    code = 401


class NotAuthorized(BlazarException):
    msg_fmt = "Not authorized"
    code = 403


class PolicyNotAuthorized(NotAuthorized):
    msg_fmt = "Policy doesn't allow %(action)s to be performed"


class OutOfLeaseLimits(NotAuthorized):
    """A before_end_date outside its lease (a 403, as upstream answers)."""
    msg_fmt = "Datetime is out of lease limits: %(reason)s"


class OwnerNotConfirmed(NotAuthorized):
    """The manager did not write a lease as its owner's: the API named the
    caller as the owner it expected, and the lease is another's (or the
    manager predates such calls). The API then checks its policy against
    the lease's own owner; a client never sees this."""
    msg_fmt = "Lease %(id)s is not the caller's own"


class EnforcementRefused(NotAuthorized):
    """A usage rule ([enforcement] filters) refuses a lease create/update."""
    msg_fmt = "%(reason)s"

    def __init__(self, message=None, rule='enforcement', **kwargs):
        super().__init__(message, rule=rule, **kwargs)


# --- 404 -----------------------------------------------------------------
class NotFound(BlazarException):
    msg_fmt = "%(object)s %(id)s could not be found"
    code = 404


class LeaseNotFound(NotFound):
    # Upstream's words (the API's existence check), which clients match.
    msg_fmt = "Object with {'lease_id': '%(id)s'} not found"


class ReservationNotFound(NotFound):
    msg_fmt = "Reservation %(id)s could not be found"


class HostNotFound(NotFound):
    """No hypervisor of that name or id in Nova."""
    msg_fmt = "Host '%(host)s' not found!"


class HostNotEnrolled(HostNotFound):
    """No enrolled host of that id or hypervisor hostname."""
    msg_fmt = "Object with {'host_id': '%(host)s'} not found"


class ResourcePropertyNotFound(NotFound):
    msg_fmt = "Resource property %(name)s could not be found"


class AggregateNotFound(NotFound):
    msg_fmt = "Aggregate '%(name)s' not found!"


class FloatingIPNotFound(NotFound):
    msg_fmt = "Floating IP %(id)s not found."


class FloatingIPSubnetNotFound(NotFound):
    msg_fmt = ("Floating IP %(address)s lies in no subnet of network %(network)s "
               "(its subnets: %(subnets)s)")


class ResourceProviderNotFound(NotFound):
    msg_fmt = "No resource provider found for host %(provider)s"


# --- 406 -----------------------------------------------------------------
class MicroversionNotAcceptable(BlazarException):
    msg_fmt = ("Version %(version)s is not supported by the API. "
               "Minimum is %(min)s and maximum is %(max)s.")
    code = 406


# --- 409 -----------------------------------------------------------------
class Conflict(BlazarException):
    msg_fmt = "Conflict: %(reason)s"
    code = 409


class HostAlreadyEnrolled(Conflict):
    msg_fmt = "Host %(host)s is already enrolled"


class HostHavingServers(Conflict):
    msg_fmt = "Servers [%(servers)s] found for host %(host)s"


class MultipleHostsFound(Conflict):
    msg_fmt = "Multiple Hosts found for pattern '%(host)s': use its id"


class CantDeleteHost(Conflict):
    msg_fmt = "Can't delete host %(host)s. %(reason)s"


class CantUpdateParameter(Conflict):
    msg_fmt = "%(param)s cannot be updated: %(reason)s"


class CantAddExtraCapability(Conflict):
    msg_fmt = "Can't add extracapabilities %(keys)s to Host %(host)s: %(reason)s"


class NotEnoughResources(Conflict):
    msg_fmt = "Not enough %(what)s available: %(reason)s"


class NotEnoughHostsAvailable(NotEnoughResources):
    msg_fmt = "Not enough hosts available: %(reason)s"


class NotEnoughFloatingIPAvailable(NotEnoughResources):
    msg_fmt = "Not enough floating IPs available: %(reason)s"


class CantDeleteFloatingIP(Conflict):
    msg_fmt = "Floating IP %(id)s cannot be deleted: %(reason)s"


class CantUpdateFloatingIPReservation(Conflict):
    msg_fmt = "The floating-IP reservation cannot be changed: %(reason)s"


class InvalidStatus(Conflict):
    # "Invalid lease status." is upstream's word for a lease, first.
    msg_fmt = "Invalid %(what)s status. %(kind)s %(id)s is %(status)s: %(reason)s"

    def __init__(self, message=None, kind='Lease', **kwargs):
        kwargs.setdefault('what', kind.lower())
        super().__init__(message, kind=kind, **kwargs)


# --- 5xx from the outside world ------------------------------------------
class ExternalServiceError(BlazarException):
    msg_fmt = "%(service)s error: %(reason)s"
    code = 502


class NovaError(ExternalServiceError):
    msg_fmt = "Compute service (Nova) error: %(reason)s"


class NovaConflict(NovaError):
    """Nova refused a change for the state it is in (HTTP 409)."""


class NeutronError(ExternalServiceError):
    msg_fmt = "Networking service (Neutron) error: %(reason)s"


class NeutronConflict(NeutronError):
    """Neutron refused a change for the state it is in (HTTP 409)."""


class NeutronNotFound(NeutronError):
    """Neutron has no such object (HTTP 404)."""


class PlacementError(ExternalServiceError):
    msg_fmt = "Placement service error: %(reason)s"


class PlacementConflict(PlacementError):
    """Placement refused a change (in use, or generation races left)."""
    msg_fmt = "Placement service refused the change: %(reason)s"


class ServiceUnavailable(BlazarException):
    msg_fmt = "%(service)s is unavailable: %(reason)s"
    code = 503


class NovaUnavailable(ServiceUnavailable):
    msg_fmt = "Compute service (Nova) is unavailable: %(reason)s"


class NeutronUnavailable(ServiceUnavailable):
    msg_fmt = "Networking service (Neutron) is unavailable: %(reason)s"


class PlacementUnavailable(ServiceUnavailable):
    msg_fmt = "Placement service is unavailable: %(reason)s"


class DatabaseUnavailable(ServiceUnavailable):
    msg_fmt = "The database is unavailable: %(reason)s"


class ManagerUnavailable(ServiceUnavailable):
    msg_fmt = "The reservation manager did not answer: %(reason)s"


# --- Keystone trusts (blazar/clients/keystone.py) -------------------------
class TrustNotCreated(NotAuthorized):
    """The caller's token could not delegate to Blazar: nothing is stored."""
    msg_fmt = ("Keystone did not create the trust the lease needs (from user "
               "%(user)s to the Blazar service user): %(reason)s")


class TrustNotUsable(NotAuthorized):
    msg_fmt = ("The Blazar service user cannot use trust %(trust_id)s: "
               "%(reason)s")


class IdentityError(ExternalServiceError):
    msg_fmt = "Identity service (Keystone) error: %(reason)s"


class IdentityUnavailable(ServiceUnavailable):
    msg_fmt = "Identity service (Keystone) is unavailable: %(reason)s"
