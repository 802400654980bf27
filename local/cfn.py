"""Reads CloudFormation/SAM templates: short-form tags, intrinsic functions, SAM Globals."""

from __future__ import annotations

import base64
import copy
import ipaddress
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "NO_VALUE",
    "Resolver",
    "TemplateError",
    "load_template",
    "merge_globals",
    "referenced_ids",
]

logger = logging.getLogger(__name__)

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"


class TemplateError(Exception):
    """The template cannot be read or one of its expressions cannot be resolved locally."""


class _NoValue:
    """`Ref: AWS::NoValue` — the key or list item holding it disappears."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()


# --------------------------------------------------------------------------- YAML loading

# Short-form tags whose long form is `Fn::<Name>`. `!Ref` and `!Condition` are handled apart
# because their long forms have no `Fn::` prefix, and `!GetAtt` because "A.B" splits.
_FN_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
)


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that understands CloudFormation short-form tags (`!Ref`, `!Sub`, ...)."""


def _construct_node(loader: CfnLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _long_form(key: str) -> Callable[[CfnLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _construct_node(loader, node)}

    return construct


def _construct_get_att(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct_node(loader, node)
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        value = [logical_id, attribute]
    return {"Fn::GetAtt": value}


CfnLoader.add_constructor("!Ref", _long_form("Ref"))
CfnLoader.add_constructor("!Condition", _long_form("Condition"))
CfnLoader.add_constructor("!GetAtt", _construct_get_att)
for _name in _FN_TAGS:
    CfnLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))


def merge_globals(global_props: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge (the resource wins), lists add up (globals first),
    anything else is replaced by the resource's value."""
    merged = copy.deepcopy(dict(global_props))
    for key, value in props.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = merge_globals(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = current + copy.deepcopy(value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    if len(value) == 1 and next(iter(value)) in ("Ref", "Condition"):
        return True
    return any(str(key).startswith("Fn::") for key in value)


_GLOBAL_SECTIONS = {
    "Function": "AWS::Serverless::Function",
    "Api": "AWS::Serverless::Api",
    "HttpApi": "AWS::Serverless::HttpApi",
    "SimpleTable": "AWS::Serverless::SimpleTable",
    "StateMachine": "AWS::Serverless::StateMachine",
    "LayerVersion": "AWS::Serverless::LayerVersion",
}


def load_template(path: Path | str) -> dict[str, Any]:
    """Loads a YAML or JSON template, with each SAM `Globals` section merged into its
    resources (so callers never look at `Globals` again)."""
    path = Path(path)
    try:
        template = yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read {path}: {exc}") from exc
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    global_sections = template.get("Globals") or {}
    for section, resource_type in _GLOBAL_SECTIONS.items():
        global_props = global_sections.get(section)
        if not global_props:
            continue
        for resource in template["Resources"].values():
            if isinstance(resource, dict) and resource.get("Type") == resource_type:
                resource["Properties"] = merge_globals(
                    global_props, resource.get("Properties") or {}
                )
    return template


# --------------------------------------------------------------------------- references

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _sub_names(text: str) -> Iterable[str]:
    for match in _SUB_VARIABLE.finditer(text):
        name = match.group(1).strip()
        if name and not name.startswith("!"):
            yield name


def referenced_ids(value: Any) -> set[str]:
    """Every logical id or parameter a piece of template refers to (Ref, GetAtt, Sub)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, arg in node.items():
                if key == "Ref" and isinstance(arg, str):
                    found.add(arg)
                elif key == "Fn::GetAtt":
                    if isinstance(arg, list) and arg and isinstance(arg[0], str):
                        found.add(arg[0])
                    elif isinstance(arg, str):
                        found.add(arg.split(".", 1)[0])
                elif key == "Fn::Sub":
                    text = arg[0] if isinstance(arg, list) and arg else arg
                    if isinstance(text, str):
                        found.update(name.split(".", 1)[0] for name in _sub_names(text))
                walk(arg)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    return found


# --------------------------------------------------------------------------- resolution

RefLookup = Callable[[str], Any]
AttLookup = Callable[[str, str], Any]


class Resolver:
    """Evaluates intrinsic functions against parameters, pseudo-parameters, conditions and
    the physical resources the caller knows about (`resource_ref`, `resource_att`)."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        resource_ref: RefLookup,
        resource_att: AttLookup,
        parameters: Mapping[str, Any] | None = None,
        stack_name: str = "pushgate-local",
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
    ) -> None:
        self._template = template
        self._resource_ref = resource_ref
        self._resource_att = resource_att
        self._overrides = dict(parameters or {})
        self._condition_cache: dict[str, bool] = {}
        self._pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": stack_name,
            "AWS::StackId": (
                f"arn:{PARTITION}:cloudformation:{region}:{account_id}:stack/{stack_name}/local"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self._handlers: dict[str, Callable[[Any], Any]] = {
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::If": self._if,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": self._base64,
            "Fn::GetAZs": self._get_azs,
            "Fn::Cidr": self._cidr,
            "Fn::ImportValue": self._import_value,
            "Fn::Equals": lambda arg: self.condition_value({"Fn::Equals": arg}),
            "Fn::Not": lambda arg: self.condition_value({"Fn::Not": arg}),
            "Fn::And": lambda arg: self.condition_value({"Fn::And": arg}),
            "Fn::Or": lambda arg: self.condition_value({"Fn::Or": arg}),
        }

    @property
    def region(self) -> str:
        return str(self._pseudo["AWS::Region"])

    @property
    def account_id(self) -> str:
        return str(self._pseudo["AWS::AccountId"])

    # ------------------------------------------------------------------ public

    def resolve(self, value: Any) -> Any:
        """Returns `value` with every intrinsic function replaced by its result."""
        if isinstance(value, dict):
            if len(value) == 1:
                key, arg = next(iter(value.items()))
                if key == "Ref":
                    return self.ref(self.resolve(arg))
                handler = self._handlers.get(key)
                if handler is not None:
                    return handler(arg)
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        return value

    def ref(self, name: str) -> Any:
        if name in self._pseudo:
            return self._pseudo[name]
        parameters = self._template.get("Parameters") or {}
        if name in parameters:
            return self._parameter(name, parameters[name] or {})
        if name in (self._template.get("Resources") or {}):
            return self._resource_ref(name)
        raise TemplateError(f"Ref to unknown parameter or resource {name!r}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in (self._template.get("Resources") or {}):
            raise TemplateError(f"Fn::GetAtt on unknown resource {logical_id!r}")
        return self._resource_att(logical_id, attribute)

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            conditions = self._template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name!r}")
            self._condition_cache[name] = self.condition_value(conditions[name])
        return self._condition_cache[name]

    def condition_value(self, expression: Any) -> bool:
        """Evaluates a condition expression (Fn::Equals/Not/And/Or, Condition)."""
        if isinstance(expression, bool):
            return expression
        if isinstance(expression, str) and expression.lower() in ("true", "false"):
            return expression.lower() == "true"
        if not (isinstance(expression, dict) and len(expression) == 1):
            raise TemplateError(f"not a condition: {expression!r}")
        key, arg = next(iter(expression.items()))
        operators: dict[str, Callable[[Any], bool]] = {
            "Condition": self.condition,
            "Fn::Equals": self._equals,
            "Fn::Not": lambda item: (
                not self.condition_value(item[0] if isinstance(item, list) else item)
            ),
            "Fn::And": lambda items: all(self.condition_value(item) for item in items),
            "Fn::Or": lambda items: any(self.condition_value(item) for item in items),
        }
        if key not in operators:
            raise TemplateError(f"not a condition: {expression!r}")
        return operators[key](arg)

    def _equals(self, arg: Any) -> bool:
        if not isinstance(arg, list) or len(arg) != 2:
            raise TemplateError(f"Fn::Equals wants two values, got {arg!r}")
        left, right = (self.resolve(item) for item in arg)
        return _scalar_text(left) == _scalar_text(right)

    # ------------------------------------------------------------------ helpers

    def _parameter(self, name: str, declaration: Mapping[str, Any]) -> Any:
        if name in self._overrides:
            value = self._overrides[name]
        elif "Default" in declaration:
            value = declaration["Default"]
        else:
            raise TemplateError(f"parameter {name!r} has no default; give it a local override")
        kind = str(declaration.get("Type", "String"))
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            return (
                value
                if isinstance(value, list)
                else [item.strip() for item in str(value).split(",")]
            )
        return _scalar_text(value)

    def _get_att(self, arg: Any) -> Any:
        arg = self.resolve(arg)
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not isinstance(arg, list) or len(arg) != 2:
            raise TemplateError(f"Fn::GetAtt wants [LogicalId, Attribute], got {arg!r}")
        return self.get_att(str(arg[0]), str(arg[1]))

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], dict):
                raise TemplateError(f"Fn::Sub wants a string or [string, {{vars}}], got {arg!r}")
            text, variables = arg[0], {key: self.resolve(value) for key, value in arg[1].items()}
        else:
            text, variables = arg, {}
        if not isinstance(text, str):
            raise TemplateError(f"Fn::Sub wants a string, got {text!r}")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _scalar_text(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return _scalar_text(self.get_att(logical_id, attribute))
            return _scalar_text(self.ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _join(self, arg: Any) -> str:
        delimiter, items = self.resolve(arg)
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Join wants a list, got {items!r}")
        return str(delimiter).join(_scalar_text(item) for item in items)

    def _if(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 3:
            raise TemplateError(f"Fn::If wants [condition, then, else], got {arg!r}")
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _select(self, arg: Any) -> Any:
        index, items = self.resolve(arg)
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Select wants a list, got {items!r}")
        try:
            return items[int(index)]
        except (IndexError, ValueError) as exc:
            raise TemplateError(f"Fn::Select index {index!r} out of range") from exc

    def _split(self, arg: Any) -> list[str]:
        delimiter, text = self.resolve(arg)
        return str(text).split(str(delimiter))

    def _find_in_map(self, arg: Any) -> Any:
        map_name, top_key, second_key = self.resolve(arg)[:3]
        try:
            return self._template["Mappings"][map_name][top_key][second_key]
        except (KeyError, TypeError) as exc:
            raise TemplateError(f"Fn::FindInMap {map_name}/{top_key}/{second_key} missing") from exc

    def _base64(self, arg: Any) -> str:
        return base64.b64encode(_scalar_text(self.resolve(arg)).encode()).decode()

    def _get_azs(self, arg: Any) -> list[str]:
        region = self.resolve(arg) or self.region
        return [f"{region}{zone}" for zone in "abcdef"]

    def _cidr(self, arg: Any) -> list[str]:
        block, count, bits = self.resolve(arg)
        network = ipaddress.ip_network(str(block), strict=False)
        prefix = network.max_prefixlen - int(bits)
        subnets = network.subnets(new_prefix=prefix)
        return [str(next(subnets)) for _ in range(int(count))]

    def _import_value(self, arg: Any) -> str:
        name = self.resolve(arg)
        logger.warning("Fn::ImportValue %s has no local value; using a placeholder", name)
        return f"imported-{name}"


def _scalar_text(value: Any) -> str:
    """CloudFormation's string form of a scalar (booleans lower-case, numbers as written)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)
