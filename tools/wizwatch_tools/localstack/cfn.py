"""Reading template.yaml: CloudFormation's short-form tags and the intrinsic functions.

The local stack provisions from the template itself rather than from a second hand-written list,
so it needs the template as plain data (``!Ref X`` -> ``{"Ref": "X"}``) and a resolver that turns
``Ref``/``GetAtt``/``Sub``/``Join``/``If``... into the values the deployed stack would have.
:class:`Provisioner` is what a resource translator (``cfn_*``, ``roles``) gets to work with.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

_NO_VALUE = object()


class TemplateError(Exception):
    """The template uses something the local stack cannot resolve; the message says what."""


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


class _Loader(_BaseLoader):
    """SafeLoader that knows CloudFormation's ``!Tag`` short forms."""


def _construct(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    name = "Ref" if tag == "Ref" else ("Condition" if tag == "Condition" else f"Fn::{tag}")

    def build(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return build


for _tag in (
    "Ref", "Condition", "GetAtt", "Sub", "Join", "Split", "Select", "If", "Equals", "Not", "And",
    "Or", "FindInMap", "Base64", "GetAZs", "ImportValue", "Cidr", "ToJsonString", "Length",
):  # fmt: skip
    _Loader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: str | Path) -> dict[str, Any]:
    """The template as plain data, short-form tags expanded to their long form (a fresh copy)."""
    p = Path(path).resolve()
    return copy.deepcopy(_parsed(p, p.stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int) -> dict[str, Any]:
    """Parsed once per file version: every test provisions from the same template."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_Loader)  # a SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return data


def references(value: Any) -> set[str]:
    """Logical IDs that ``value`` refers to (Ref, GetAtt, ${X} in Sub): the dependency graph."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else str(arg).split(".")[0])
            elif key == "Fn::Sub":
                text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                for var in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    if var not in local:
                        found.add(var.split(".")[0])
                found |= references(local)
            else:
                found |= references(arg)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


class Resolver:
    """Evaluates intrinsic functions against parameters, pseudo parameters and created resources.

    ``refs`` maps a logical ID to what ``Ref`` returns; ``attrs`` maps ``(id, attribute)`` to what
    ``GetAtt`` returns. Both are filled by the provisioner as resources are created.
    """

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str], pseudo: Mapping[str, str]):
        self.template = template
        self.parameters = self._parameter_values(parameters)
        self.pseudo = dict(pseudo)
        self.refs: dict[str, Any] = {}
        self.attrs: dict[tuple[str, str], Any] = {}
        self._conditions: dict[str, bool] = {}

    def _parameter_values(self, given: Mapping[str, str]) -> dict[str, Any]:
        declared = self.template.get("Parameters", {}) or {}
        unknown = set(given) - set(declared)
        if unknown:
            raise TemplateError(f"unknown template parameter(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        missing = []
        for name, spec in declared.items():
            if name in given:
                value: Any = given[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                missing.append(name)
                continue
            value = str(value)
            if str(spec.get("Type", "")).startswith("List<") or spec.get("Type") == "CommaDelimitedList":
                value = [v.strip() for v in value.split(",")] if value else []
            values[name] = value
        if missing:
            raise TemplateError(f"template parameter(s) without a value: {', '.join(missing)}")
        return values

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = (self.template.get("Conditions") or {}).get(name)
            if spec is None:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(spec))
        return self._conditions[name]

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise TemplateError(f"Ref {name!r}: not a parameter, pseudo parameter or provisioned resource")

    def get_att(self, name: str, attribute: str) -> Any:
        try:
            return self.attrs[(name, attribute)]
        except KeyError:
            raise TemplateError(f"GetAtt {name}.{attribute}: not provided by the local stack") from None

    def _sub(self, arg: Any) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(m: re.Match[str]) -> str:
            var = m.group(1)
            if var.startswith("!"):
                return "${" + var[1:] + "}"
            if var in local:
                return str(local[var])
            if "." in var:
                res, att = var.split(".", 1)
                return str(self.get_att(res, att))
            return str(self.ref(var))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated (AWS::NoValue entries dropped)."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            fn = self._FUNCTIONS.get(key)
            if fn is not None:
                return fn(self, arg)
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not supported by the local stack")
        out = {}
        for k, v in value.items():
            r = self.resolve(v)
            if r is not _NO_VALUE:
                out[k] = r
        return out

    def _fn_ref(self, arg: str) -> Any:
        return _NO_VALUE if arg == "AWS::NoValue" else self.ref(arg)

    def _fn_getatt(self, arg: Any) -> Any:
        res, att = arg if isinstance(arg, list) else str(arg).split(".", 1)
        return self.get_att(res, self.resolve(att))

    def _fn_if(self, arg: list[Any]) -> Any:
        name, yes, no = arg
        return self.resolve(yes if self.condition(name) else no)

    def _fn_select(self, arg: list[Any]) -> Any:
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        return items[int(index)]

    _FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
        "Ref": _fn_ref,
        "Condition": lambda self, arg: self.condition(arg),
        "Fn::GetAtt": _fn_getatt,
        "Fn::Sub": _sub,
        "Fn::Join": lambda self, arg: str(arg[0]).join(str(v) for v in self.resolve(arg[1])),
        "Fn::Split": lambda self, arg: str(self.resolve(arg[1])).split(arg[0]),
        "Fn::Select": _fn_select,
        "Fn::If": _fn_if,
        "Fn::Equals": lambda self, arg: str(self.resolve(arg[0])) == str(self.resolve(arg[1])),
        "Fn::Not": lambda self, arg: not self.resolve(arg[0]),
        "Fn::And": lambda self, arg: all(self.resolve(a) for a in arg),
        "Fn::Or": lambda self, arg: any(self.resolve(a) for a in arg),
        "Fn::FindInMap": lambda self, arg: self.template["Mappings"][self.resolve(arg[0])][
            self.resolve(arg[1])
        ][self.resolve(arg[2])],
    }


class Provisioner(Protocol):
    """What a resource translator may use: the resolver it records physical IDs and attributes
    in, the template, clients on the endpoint, and where to report skipped parts and functions."""

    resolver: Resolver
    stack_name: str
    template: dict[str, Any]
    template_path: Path
    secret_values: dict[str, str]
    skipped: dict[str, str]
    functions: dict[str, Any]

    def client(self, service: str) -> Any: ...

    def physical_name(self, logical_id: str, given: Any, suffix: str = "") -> str:
        """``given`` if set, else a name made from the stack name and the logical ID."""
        ...
