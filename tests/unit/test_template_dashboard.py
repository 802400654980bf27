"""The operations dashboard in template.yaml shows what pushgate really emits: every metric
the code publishes (and nothing it does not), every dead-letter queue's depth, and every
function's errors and duration. A metric renamed, a queue or function added without its
widget line, fails here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from local.cfn import load_template
from pushgate.delivery.tracing import OUTCOMES

REPO = Path(__file__).resolve().parents[2]
LAYER = REPO / "layers" / "pushgate" / "pushgate"
_LITERAL_METRIC = re.compile(r'add_metric\(\s*name="(\w+)"')
_METRIC_CONSTANT = re.compile(r'^METRIC = "(\w+)"', re.MULTILINE)
_REFERENCE = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z]+)?\}")


def _resources() -> dict[str, Any]:
    return load_template(REPO / "template.yaml")["Resources"]


def _body() -> tuple[str, dict[str, Any]]:
    (dashboard,) = [r for r in _resources().values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    return text, json.loads(text)


def _metrics(namespace: str, name: str | None = None) -> list[list[Any]]:
    _, body = _body()
    return [
        metric
        for widget in body["widgets"]
        for metric in widget["properties"]["metrics"]
        if metric[0] == namespace and (name is None or metric[1] == name)
    ]


def _emitted() -> set[str]:
    """Every metric name the layer publishes (`Deliveries<Outcome>` is built from the outcome)."""
    names = {f"Deliveries{outcome.title().replace('_', '')}" for outcome in OUTCOMES}
    for path in LAYER.rglob("*.py"):
        text = path.read_text()
        names |= set(_LITERAL_METRIC.findall(text))
        if "add_metric(name=METRIC" in text:
            names |= set(_METRIC_CONSTANT.findall(text))
    return names


def test_dashboard_shows_exactly_the_metrics_pushgate_emits_with_their_dimension():
    shown = _metrics("Pushgate")

    assert {metric[1] for metric in shown} == _emitted()
    assert all(metric[2:4] == ["service", "pushgate"] for metric in shown)


def test_dashboard_shows_the_depth_of_every_dead_letter_queue():
    resources = _resources()
    dead_letter_queues = {
        queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for queue in resources.values()
        if queue["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in queue["Properties"]
    }
    shown = _metrics("AWS/SQS", "ApproximateNumberOfMessagesVisible")

    assert len(dead_letter_queues) == 5
    assert sorted(metric[3] for metric in shown) == sorted(
        f"${{{queue}.QueueName}}" for queue in dead_letter_queues
    )


def test_dashboard_shows_errors_and_duration_of_every_function():
    functions = sorted(
        name for name, r in _resources().items() if r["Type"] == "AWS::Serverless::Function"
    )

    for metric in ("Errors", "Duration"):
        shown = _metrics("AWS/Lambda", metric)
        assert sorted(m[3] for m in shown) == [f"${{{name}}}" for name in functions], metric
        assert all(m[2] == "FunctionName" for m in shown)


def test_dashboard_names_only_resources_of_the_template_and_its_region():
    text, body = _body()
    names = set(_REFERENCE.findall(text))

    assert names - set(_resources()) == {"AWS::Region"}
    assert {widget["properties"]["region"] for widget in body["widgets"]} == {"${AWS::Region}"}
