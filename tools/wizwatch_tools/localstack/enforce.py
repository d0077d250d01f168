"""IAM enforced by the local moto server, as AWS enforces it: every request checked, per resource.

moto has an access control of its own (``moto/iam/access_control.py``: SigV4 signature, then the
caller's user or assumed-role policies), but it is one process-wide switch
(``settings.INITIAL_NO_AUTH_ACTION_COUNT``) that would also turn it on for the unit tests' in-process
``mock_aws`` in the same pytest worker, and it authorises one action per request against a
resource that is ``"*"`` for DynamoDB, SNS, Secrets Manager and KMS. So:

- :func:`install` wraps moto's ``ActionAuthenticatorMixin._authenticate_and_authorize_action``
  (once per process). A request that arrived through an enforcing :class:`LocalServerApp` is
  checked with moto's own ``IAMRequest`` machinery (signature, then policy evaluation) for every
  :class:`~wizwatch_tools.localstack.authz.Permission` AWS would check; any other request (the
  unit tests' ``mock_aws``, a plain moto server) keeps moto's behaviour untouched.
- :class:`LocalServerApp` is the WSGI app of :class:`~wizwatch_tools.localstack.server.MotoServer`:
  it marks its requests and answers a small control API (like moto's own ``/moto-api/``):

  ``GET  /wizwatch-local/iam``              ``{"enforcing": bool}``
  ``POST /wizwatch-local/iam``              ``{"enforcing": bool}`` switches enforcement
  ``POST /wizwatch-local/iam/admin``        ``{"access_key_id", "secret_access_key"}``: an IAM user
                                            allowed everything, with exactly that key (provisioning
                                            and the tests' own clients run as it)
  ``POST /wizwatch-local/iam/assume-role``  ``{"role_arn", "session_name", "service"}``: what the
                                            Lambda service does before each cold start; refused
                                            unless the role's trust policy lets ``service``
                                            assume it. Answers ``{"AccessKeyId", "SecretAccessKey",
                                            "SessionToken"}``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.s3.exceptions import S3AccessDeniedError

from wizwatch_tools.localstack import authz

ADMIN_USER = "wizwatch-local-admin"
CONTROL_PREFIX = "/wizwatch-local/iam"
ADMIN_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


@dataclass
class RequestContext:
    """The request being served by an enforcing app (one per werkzeug request thread)."""

    app: LocalServerApp
    remote_addr: str
    access_key: Any = None  # moto's IAMUserAccessKey / AssumedRoleAccessKey of the caller, once checked


_current = threading.local()


def current_request() -> RequestContext | None:
    """The local-server request this thread is serving (None for in-process moto and other servers)."""
    return getattr(_current, "ctx", None)


# ---- the authorisation moto runs for every request ----------------------------------------------

_install_lock = threading.Lock()
_original: Callable[..., None] | None = None


def install() -> None:
    """Wrap moto's authorisation and S3 notifications (idempotent, once per process)."""
    global _original
    with _install_lock:
        if _original is not None:
            return
        from wizwatch_tools.localstack import s3events

        s3events.install()
        _original = ActionAuthenticatorMixin._authenticate_and_authorize_action
        ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize  # type: ignore[method-assign]


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    ctx = current_request()
    if ctx is None:
        assert _original is not None
        return _original(self, iam_request_cls, resource)
    if not ctx.app.enforcing:
        return None
    if self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
        return None
    action = self._get_action()
    if "Authorization" not in self.headers:  # unsigned: no identity, so nothing is allowed
        raise _denied(iam_request_cls, "anonymous", str(action), resource, self.headers)
    path = self.raw_path + (f"?{urlparse(self.uri).query}" if urlparse(self.uri).query else "")
    iam_request = iam_request_cls(
        account_id=self.current_account,
        method=self.method,
        path=path,
        data=self.data,
        body=self.raw_body,
        headers=self.headers,
        action=action,
    )
    iam_request.check_signature()
    ctx.access_key = iam_request._access_key
    request = authz.Request(
        service=iam_request._service,
        operation=str(action[0] if isinstance(action, list) else action),
        region=iam_request._region,
        account=self.current_account,
        method=self.method,
        url=self.uri,
        headers=dict(self.headers),
        body=self.raw_body or b"",
        params=self.querystring or {},
        default_resource=resource,
    )
    lookup = BackendLookup(self.current_account, iam_request._region)
    # dict.fromkeys: each distinct pair once (a transaction of 100 puts on one table is one check)
    for permission in dict.fromkeys(authz.permissions(request, lookup)):
        iam_request._action = permission.action
        try:
            iam_request.check_action_permitted(permission.resource)
        except (AccessDeniedError, S3AccessDeniedError) as exc:
            if isinstance(exc, S3AccessDeniedError):
                raise  # S3 answers a bare "Access Denied", as AWS does
            raise _denied(
                iam_request_cls,
                iam_request._access_key.arn,
                permission.action,
                permission.resource,
                self.headers,
            ) from None
    return None


def _denied(cls: type, who: str, action: str, resource: str, headers: Any) -> Exception:
    """AWS's wording ("... is not authorized to perform: A on resource: R ..."), in the protocol's shape."""
    if cls.__name__ == "S3IAMRequest":
        return S3AccessDeniedError()
    message = (
        f"User: {who} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )
    if "json" in str(headers.get("Content-Type", "")):
        return JsonRESTError("AccessDeniedException", message)
    return _AccessDenied(message)


class _AccessDenied(AccessDeniedError):
    """moto's query-protocol AccessDenied (403, XML), with AWS's full message."""

    def __init__(self, message: str) -> None:
        super(AccessDeniedError, self).__init__("AccessDenied", message)


class BackendLookup:
    """:class:`authz.Lookup` answered from moto's backends (the server runs in this process), in
    the request's account and region unless an ARN names others."""

    def __init__(self, account: str, region: str) -> None:
        self.account, self.region = account, region

    def _where(self, arn_or_id: str) -> tuple[str, str]:
        parts = arn_or_id.split(":")
        if arn_or_id.startswith("arn:") and len(parts) > 4:
            return parts[4] or self.account, parts[3] or self.region
        return self.account, self.region

    def secret_arn(self, secret_id: str) -> str | None:
        from moto.secretsmanager.models import secretsmanager_backends

        account, region = self._where(secret_id)
        secrets = secretsmanager_backends[account][region].secrets
        return str(secrets[secret_id].arn) if secret_id in secrets else None

    def _kms_key(self, key_id: str) -> Any:
        from moto.kms.models import kms_backends

        account, region = self._where(key_id)
        try:
            return kms_backends[account][region].describe_key(key_id)
        except Exception:  # moto raises several types for "no such key"
            return None

    def kms_key_arn(self, key_id: str) -> str | None:
        key = self._kms_key(key_id)
        return None if key is None else str(key.arn)

    def kms_key_is_aws_managed(self, key_id: str) -> bool:
        if key_id.startswith("alias/aws/") or ":alias/aws/" in key_id:
            return True
        key = self._kms_key(key_id)
        return key is not None and getattr(key, "key_manager", "CUSTOMER") == "AWS"

    def topic_kms_key(self, topic_arn: str) -> str | None:
        from moto.sns.models import sns_backends

        parts = topic_arn.split(":")
        if len(parts) < 6:
            return None
        topic = sns_backends[parts[4]][parts[3]].topics.get(topic_arn)
        return (topic.kms_master_key_id or None) if topic is not None else None

    def queue_kms_key(self, queue_arn: str) -> str | None:
        from moto.sqs.models import sqs_backends

        parts = queue_arn.split(":")
        if len(parts) < 6:
            return None
        queue = sqs_backends[parts[4]][parts[3]].queues.get(parts[5])
        return (getattr(queue, "kms_master_key_id", None) or None) if queue is not None else None


# ---- identities -------------------------------------------------------------------------------


def ensure_admin(access_key_id: str, secret_access_key: str, account_id: str = DEFAULT_ACCOUNT_ID) -> str:
    """An IAM user allowed everything whose access key is exactly the given one; its ARN."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["aws"]
    if ADMIN_USER not in iam.users:
        iam.create_user(region_name="us-east-1", user_name=ADMIN_USER)
    user = iam.users[ADMIN_USER]
    iam.put_user_policy(ADMIN_USER, "administrator", ADMIN_POLICY)
    if not any(k.access_key_id == access_key_id for k in user.access_keys):
        # moto generates random keys; the admin's is the one the local stack's clients already
        # sign with (the tests' process-wide dummy credentials), so it is set on the key here.
        key = iam.create_access_key(ADMIN_USER)
        iam.access_keys.pop(key.physical_resource_id, None)
        key.access_key_id, key.secret_access_key = access_key_id, secret_access_key
        iam.access_keys[key.physical_resource_id] = key
    return str(user.arn)


class TrustRefused(Exception):
    """The role's trust policy does not let the service assume it (Lambda would refuse the function)."""


def trusts_service(trust_policy: str | dict[str, Any], service: str) -> bool:
    """True when an Allow statement of the trust policy lets ``service`` call sts:AssumeRole."""
    doc = json.loads(trust_policy) if isinstance(trust_policy, str) else trust_policy
    statements = doc.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        principals = (
            (st.get("Principal") or {}).get("Service", []) if isinstance(st.get("Principal"), dict) else []
        )
        principals = [principals] if isinstance(principals, str) else principals
        if st.get("Effect") == "Deny" and service in principals:
            return False
        if (
            st.get("Effect") == "Allow"
            and service in principals
            and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)
        ):
            return True
    return False


def assume_role_as_service(role_arn: str, session_name: str, service: str) -> dict[str, str]:
    """Temporary credentials of the role, as ``service`` (e.g. lambda.amazonaws.com) obtains them."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    account_id = role_arn.split(":")[4]
    role = iam_backends[account_id]["aws"].get_role_by_arn(role_arn)
    if not trusts_service(role.assume_role_policy_document, service):
        raise TrustRefused(f"{role_arn}: its trust policy does not let {service} assume it")
    assumed = sts_backends[account_id]["aws"].assume_role(
        region_name="us-east-1",
        role_session_name=session_name,
        role_arn=role_arn,
        policy="",
        duration=43200,
        external_id="",
    )
    return {
        "AccessKeyId": assumed.access_key_id,
        "SecretAccessKey": assumed.secret_access_key,
        "SessionToken": assumed.session_token,
    }


def principal_id(access_key: Any) -> str | None:
    """The ``userIdentity.principalId`` AWS puts in events: ``AWS:<unique id>[:<session>]``."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if access_key is None:
        return None
    account, partition = access_key.account_id, access_key.partition
    if hasattr(access_key, "_owner_user_name"):
        user = iam_backends[account][partition].users.get(access_key._owner_user_name)
        return None if user is None else f"AWS:{user.id}"
    for assumed in sts_backends[account][partition].assumed_roles:
        if assumed.access_key_id == access_key._access_key_id:
            return f"AWS:{assumed.user_id}"
    return None


# ---- the WSGI app -----------------------------------------------------------------------------


class LocalServerApp:
    """moto's WSGI app plus request marking (for :func:`_authorize`) and the control API."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, enforcing: bool) -> None:
        self.app = app
        self.enforcing = enforcing

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response, path[len(CONTROL_PREFIX) :])
        _current.ctx = RequestContext(app=self, remote_addr=str(environ.get("REMOTE_ADDR", "127.0.0.1")))
        try:
            # Consumed here: moto does its work while the body is produced, and the context
            # must still be set then.
            return list(self.app(environ, start_response))
        finally:
            _current.ctx = None

    def _control(
        self, environ: dict[str, Any], start_response: Callable[..., Any], sub: str
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            if sub in ("", "/") and method == "GET":
                result: dict[str, Any] = {"enforcing": self.enforcing}
            elif sub in ("", "/") and method == "POST":
                self.enforcing = bool(body["enforcing"])
                result = {"enforcing": self.enforcing}
            elif sub == "/admin" and method == "POST":
                result = {"arn": ensure_admin(body["access_key_id"], body["secret_access_key"])}
            elif sub == "/assume-role" and method == "POST":
                result = assume_role_as_service(body["role_arn"], body["session_name"], body["service"])
            else:
                return _respond(
                    start_response, "404 Not Found", {"error": f"no control endpoint {method} {sub}"}
                )
        except TrustRefused as exc:
            return _respond(start_response, "403 Forbidden", {"error": str(exc)})
        except Exception as exc:  # a bad control request (or moto's NotFound): the caller's to fix
            return _respond(start_response, "400 Bad Request", {"error": f"{type(exc).__name__}: {exc}"})
        return _respond(start_response, "200 OK", result)


def _respond(start_response: Callable[..., Any], status: str, doc: dict[str, Any]) -> list[bytes]:
    data = json.dumps(doc).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
