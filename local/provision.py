"""Creates the template's tables, queues, keys (and a few more) in the emulator, in
dependency order, and remembers every resource's physical id for `Ref` and `Fn::GetAtt`."""

from __future__ import annotations

import json
import logging
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.cfn import Resolver, TemplateError, referenced_ids
from local.template import active_resources

__all__ = [
    "PhysicalResource",
    "Provisioner",
    "ResourceRegistry",
    "dependency_order",
    "physical_name",
]

logger = logging.getLogger(__name__)

ClientFactory = Callable[[str], Any]

_SUFFIX_ALPHABET = string.ascii_uppercase + string.digits


def physical_name(stack_name: str, logical_id: str, *, max_length: int = 255) -> str:
    """A name the way CloudFormation generates one: `<stack>-<LogicalId>-<SUFFIX>`."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(12))
    prefix = f"{stack_name}-{logical_id}"[: max_length - len(suffix) - 1]
    return f"{prefix}-{suffix}"


@dataclass(frozen=True)
class PhysicalResource:
    """A resource as the stack knows it: `ref` is what `Ref` returns."""

    logical_id: str
    type: str
    ref: Any
    attributes: Mapping[str, Any] = field(default_factory=dict)
    emulated: bool = False  # True when it exists in the emulator (tables, queues, keys...)


class ResourceRegistry:
    """Physical resources by logical id; the resolver's source for `Ref` and `Fn::GetAtt`."""

    def __init__(self) -> None:
        self._resources: dict[str, PhysicalResource] = {}

    def add(self, resource: PhysicalResource) -> None:
        self._resources[resource.logical_id] = resource

    def get(self, logical_id: str) -> PhysicalResource | None:
        return self._resources.get(logical_id)

    def all(self) -> dict[str, PhysicalResource]:
        return dict(self._resources)

    def ref(self, logical_id: str) -> Any:
        return self._require(logical_id).ref

    def get_att(self, logical_id: str, attribute: str) -> Any:
        resource = self._require(logical_id)
        if attribute in resource.attributes:
            return resource.attributes[attribute]
        if resource.emulated:
            raise TemplateError(f"{logical_id} ({resource.type}) has no attribute {attribute!r}")
        logger.debug("%s.%s has no local value; using a placeholder", logical_id, attribute)
        return f"{resource.ref}.{attribute}"

    def _require(self, logical_id: str) -> PhysicalResource:
        resource = self._resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"{logical_id} is referenced but does not exist locally")
        return resource


def dependency_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical ids ordered so that each comes after everything it refers to (Ref, GetAtt,
    Sub, DependsOn); template order otherwise."""
    pending: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn") or []
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        needs = referenced_ids(resource.get("Properties") or {}) | set(depends_on)
        pending[logical_id] = {need for need in needs if need in resources and need != logical_id}
    ordered: list[str] = []
    while pending:
        ready = [logical_id for logical_id, needs in pending.items() if not needs]
        if not ready:
            raise TemplateError(f"circular references between {', '.join(sorted(pending))}")
        for logical_id in ready:
            ordered.append(logical_id)
            del pending[logical_id]
        for needs in pending.values():
            needs.difference_update(ready)
    return ordered


def _truthy(value: Any) -> bool:
    return str(value).lower() == "true"


def _throughput(value: Mapping[str, Any] | None) -> dict[str, int]:
    value = value or {}
    return {
        "ReadCapacityUnits": int(value.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(value.get("WriteCapacityUnits", 5)),
    }


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


class Provisioner:
    """Walks the template once and fills a `ResourceRegistry`, creating what the emulator
    supports and giving everything else a stable local identity."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        client: ClientFactory,
        stack_name: str,
        parameters: Mapping[str, Any] | None = None,
        api_url: str = "",
    ) -> None:
        self.registry = ResourceRegistry()
        self.resolver = Resolver(
            template,
            resource_ref=self.registry.ref,
            resource_att=self.registry.get_att,
            parameters=parameters,
            stack_name=stack_name,
        )
        self._template = template
        self._client = client
        self._stack_name = stack_name
        self._api_url = api_url
        self._creators: dict[str, Callable[[str, dict[str, Any]], PhysicalResource]] = {
            "AWS::DynamoDB::Table": self._create_table,
            "AWS::SQS::Queue": self._create_queue,
            "AWS::KMS::Key": self._create_key,
            "AWS::KMS::Alias": self._create_alias,
            "AWS::SNS::Topic": self._create_topic,
        }

    def run(self) -> dict[str, dict[str, Any]]:
        """Provisions every active resource; returns them (logical id → template resource)."""
        resources = active_resources(self._template, self.resolver)
        for logical_id in dependency_order(resources):
            resource_type = str(resources[logical_id].get("Type", ""))
            creator = self._creators.get(resource_type)
            if creator is None:
                self.registry.add(self._local_identity(logical_id, resource_type))
                continue
            props = self.resolver.resolve(resources[logical_id].get("Properties") or {})
            self.registry.add(creator(logical_id, props))
            logger.debug("created %s (%s)", logical_id, resource_type)
        return resources

    # ------------------------------------------------------------------ not emulated

    def _local_identity(self, logical_id: str, resource_type: str) -> PhysicalResource:
        region, account = self.resolver.region, self.resolver.account_id
        if resource_type in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            name = physical_name(self._stack_name, logical_id, max_length=64)
            arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
            return PhysicalResource(logical_id, resource_type, name, {"Arn": arn})
        if resource_type in ("AWS::Serverless::HttpApi", "AWS::Serverless::Api"):
            api_id = "".join(
                secrets.choice(string.ascii_lowercase + string.digits) for _ in range(10)
            )
            return PhysicalResource(
                logical_id, resource_type, api_id, {"ApiEndpoint": self._api_url, "ApiId": api_id}
            )
        if resource_type in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            name = physical_name(self._stack_name, logical_id, max_length=64)
            arn = f"arn:aws:lambda:{region}:{account}:layer:{name}:1"
            return PhysicalResource(logical_id, resource_type, arn, {"Arn": arn})
        logger.debug("%s: %s is not emulated locally; skipped", logical_id, resource_type)
        name = physical_name(self._stack_name, logical_id)
        service = resource_type.split("::")[1].lower() if "::" in resource_type else "unknown"
        arn = f"arn:aws:{service}:{region}:{account}:{name}"
        return PhysicalResource(logical_id, resource_type, name, {"Arn": arn})

    # ------------------------------------------------------------------ emulated

    def _create_table(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        client = self._client("dynamodb")
        name = props.get("TableName") or physical_name(self._stack_name, logical_id)
        billing = props.get("BillingMode", "PROVISIONED")
        provisioned = billing == "PROVISIONED"
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if provisioned:
            request["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput"))
        for section in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            indexes = []
            for index in props.get(section) or []:
                spec = {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
                if provisioned and section == "GlobalSecondaryIndexes":
                    spec["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
                indexes.append(spec)
            if indexes:
                request[section] = indexes
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        description = client.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification") or {}
        if _truthy(ttl.get("Enabled")):
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        attributes = {"Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            attributes["StreamArn"] = description["LatestStreamArn"]
        return PhysicalResource(logical_id, "AWS::DynamoDB::Table", name, attributes, True)

    def _create_queue(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        client = self._client("sqs")
        fifo = _truthy(props.get("FifoQueue", False))
        name = props.get("QueueName") or (
            physical_name(self._stack_name, logical_id, max_length=75 if fifo else 80)
            + (".fifo" if fifo else "")
        )
        attributes: dict[str, str] = {}
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "MaximumMessageSize",
            "FifoQueue",
            "ContentBasedDeduplication",
            "DeduplicationScope",
            "FifoThroughputLimit",
        ):
            if key in props:
                attributes[key] = _attribute_text(props[key])
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in props:
                policy = props[key]
                policy = dict(json.loads(policy) if isinstance(policy, str) else policy)
                if "maxReceiveCount" in policy:
                    policy["maxReceiveCount"] = int(policy["maxReceiveCount"])
                attributes[key] = json.dumps(policy)
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return PhysicalResource(
            logical_id,
            "AWS::SQS::Queue",
            url,
            {"Arn": arn, "QueueUrl": url, "QueueName": name},
            True,
        )

    def _create_key(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        client = self._client("kms")
        request: dict[str, Any] = {
            "Description": props.get("Description", ""),
            "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
        }
        policy = props.get("KeyPolicy")
        if policy:
            request["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
        metadata = client.create_key(**request)["KeyMetadata"]
        key_id = metadata["KeyId"]
        if _truthy(props.get("EnableKeyRotation", False)):
            client.enable_key_rotation(KeyId=key_id)
        if str(props.get("Enabled", True)).lower() == "false":
            client.disable_key(KeyId=key_id)
        return PhysicalResource(
            logical_id, "AWS::KMS::Key", key_id, {"Arn": metadata["Arn"], "KeyId": key_id}, True
        )

    def _create_alias(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        self._client("kms").create_alias(
            AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"]
        )
        return PhysicalResource(logical_id, "AWS::KMS::Alias", props["AliasName"], {}, True)

    def _create_topic(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        fifo = _truthy(props.get("FifoTopic", False))
        name = props.get("TopicName") or (
            physical_name(self._stack_name, logical_id, max_length=251 if fifo else 256)
            + (".fifo" if fifo else "")
        )
        attributes = {"FifoTopic": "true"} if fifo else {}
        arn = self._client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        return PhysicalResource(
            logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name}, True
        )
