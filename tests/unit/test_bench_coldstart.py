"""The cold-start bench measures every function the template deploys, each over its floor."""

from __future__ import annotations

from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

from bench import coldstart

REPO = Path(__file__).resolve().parents[2]


def test_bench_coldstart_covers_every_function_of_the_template():
    resources = yaml_parse((REPO / "template.yaml").read_text())["Resources"]
    folders = {
        Path(r["Properties"]["CodeUri"]).name
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::Function"
    }

    assert set(coldstart.FUNCTIONS) == folders


def test_bench_coldstart_measures_workers_over_the_worker_floor():
    resources = yaml_parse((REPO / "template.yaml").read_text())["Resources"]
    sqs_triggered = {
        Path(r["Properties"]["CodeUri"]).name
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "SQS" for e in (r["Properties"].get("Events") or {}).values())
    }

    assert sqs_triggered == coldstart.WORKERS
