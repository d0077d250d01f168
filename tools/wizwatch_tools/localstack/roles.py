"""Execution roles: created from template.yaml's IAM resources, assumed for each function.

Generic over the template: every ``AWS::IAM::Role`` is created in moto's IAM with its own trust
policy, inline ``Policies`` and ``ManagedPolicyArns``; every ``AWS::IAM::Policy`` is put on the
roles it names. Each ``AWS::Serverless::Function`` runs under the role its ``Role`` property
names (``!GetAtt SomeRole.Arn``): :func:`function_credentials` assumes it as the Lambda service
does before a cold start, and the handler gets those temporary credentials instead of the
administrator's. A new function therefore runs with enforced least privilege as soon as it has a
role of its own in the template; nothing here lists functions or grants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

from wizwatch_tools.localstack.cfn import Provisioner, TemplateError

LAMBDA_SERVICE = "lambda.amazonaws.com"
CONTROL_PATH = "/wizwatch-local/iam"


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials of an assumed role, as Lambda puts them in a function's environment."""

    access_key_id: str
    secret_access_key: str
    session_token: str

    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


def _json(doc: Any) -> str:
    return doc if isinstance(doc, str) else json.dumps(doc)


def create_role(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    """``AWS::IAM::Role``: the role, its inline policies and managed policy attachments."""
    p = prov.resolver.resolve(props)
    name = prov.physical_name(lid, p.get("RoleName"))[:64]
    iam = prov.client("iam")
    role = iam.create_role(
        RoleName=name,
        Path=p.get("Path", "/"),
        AssumeRolePolicyDocument=_json(p["AssumeRolePolicyDocument"]),
    )["Role"]
    for policy in p.get("Policies", []):
        iam.put_role_policy(
            RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=_json(policy["PolicyDocument"])
        )
    for arn in p.get("ManagedPolicyArns", []):
        try:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        except iam.exceptions.NoSuchEntityException as exc:
            raise TemplateError(
                f"{lid}: managed policy {arn} does not exist locally (moto loads AWS managed policies "
                "only with MOTO_IAM_LOAD_MANAGED_POLICIES=true); least privilege wants inline Policies anyway"
            ) from exc
    prov.resolver.refs[lid] = name
    prov.resolver.attrs[(lid, "Arn")] = role["Arn"]
    prov.resolver.attrs[(lid, "RoleId")] = role["RoleId"]


def put_policy(prov: Provisioner, lid: str, props: dict[str, Any]) -> None:
    """``AWS::IAM::Policy``: an inline policy on each role it names."""
    p = prov.resolver.resolve(props)
    if p.get("Users") or p.get("Groups"):
        raise TemplateError(
            f"{lid}: policies on IAM users or groups are not provisioned locally (roles only)"
        )
    for role in p.get("Roles", []):
        prov.client("iam").put_role_policy(
            RoleName=role, PolicyName=p["PolicyName"], PolicyDocument=_json(p["PolicyDocument"])
        )
    prov.resolver.refs[lid] = p["PolicyName"]


def role_logical_id(function_id: str, props: dict[str, Any]) -> str:
    """The logical ID of the role a function's ``Role`` property names; a clear error otherwise."""
    role = props.get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        target, attr = (
            role["Fn::GetAtt"] if isinstance(role["Fn::GetAtt"], list) else role["Fn::GetAtt"].split(".", 1)
        )
        if attr == "Arn":
            return str(target)
    raise TemplateError(
        f"{function_id}: Role must be !GetAtt <SomeRole>.Arn of an AWS::IAM::Role in template.yaml "
        f"(got {role!r}); every function runs under a least-privilege role of its own"
    )


# ---- the local server's control API --------------------------------------------------------------


def enforcing(endpoint: str) -> bool:
    """True when ``endpoint`` is a local server enforcing IAM (a plain moto server is not)."""
    try:
        resp = requests.get(f"{endpoint}{CONTROL_PATH}", timeout=10)
    except requests.RequestException:
        return False
    return resp.status_code == 200 and bool(resp.json().get("enforcing"))


def _control(endpoint: str, sub: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(f"{endpoint}{CONTROL_PATH}{sub}", json=body, timeout=10)
    if resp.status_code != 200:
        raise TemplateError(f"local IAM {sub or 'switch'}: {resp.json().get('error', resp.text)}")
    result: dict[str, Any] = resp.json()
    return result


def ensure_admin(endpoint: str, access_key_id: str, secret_access_key: str) -> str:
    """The administrator identity (allowed everything) signing with this key; its ARN."""
    return str(
        _control(
            endpoint, "/admin", {"access_key_id": access_key_id, "secret_access_key": secret_access_key}
        )["arn"]
    )


def set_enforcing(endpoint: str, enabled: bool) -> None:
    _control(endpoint, "", {"enforcing": enabled})


def function_credentials(endpoint: str, functions: dict[str, Any]) -> dict[str, Credentials]:
    """Each function's role assumed by the Lambda service, once per stack: ``{name: Credentials}``."""
    creds = {}
    for name, spec in functions.items():
        if not spec.role_arn:
            raise TemplateError(
                f"{spec.logical_id} has no Role: give it `Role: !GetAtt <SomeRole>.Arn` and an "
                "AWS::IAM::Role granting exactly what its code calls (the local stack runs every "
                "handler under its own role)"
            )
        doc = _control(
            endpoint,
            "/assume-role",
            {"role_arn": spec.role_arn, "session_name": spec.function_name[:64], "service": LAMBDA_SERVICE},
        )
        creds[name] = Credentials(doc["AccessKeyId"], doc["SecretAccessKey"], doc["SessionToken"])
    return creds
