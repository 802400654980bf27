"""Template reading: short-form tags, intrinsic functions, Globals, creation order."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from local.cfn import NO_VALUE, CfnLoader, Resolver, TemplateError, load_template, merge_globals
from local.provision import dependency_order


def _yaml(text: str) -> Any:
    return yaml.load(textwrap.dedent(text), Loader=CfnLoader)


def _resolver(template: dict[str, Any], **parameters: Any) -> Resolver:
    refs = {"Table": "table-name", "Queue": "http://q/url"}
    atts = {("Queue", "Arn"): "arn:aws:sqs:us-east-1:123456789012:q"}
    template.setdefault("Resources", {"Table": {}, "Queue": {}})
    return Resolver(
        template,
        resource_ref=refs.__getitem__,
        resource_att=lambda logical_id, attribute: atts[(logical_id, attribute)],
        parameters=parameters,
    )


def test_loader_turns_short_forms_into_long_forms() -> None:
    loaded = _yaml(
        """
        ref: !Ref Table
        att: !GetAtt Queue.Arn
        att_list: !GetAtt [Queue, Arn]
        sub: !Sub "${Table}-x"
        sub_vars: !Sub ["${A}", {A: !Ref Table}]
        join: !Join [",", [a, b]]
        if: !If [IsProd, a, b]
        cond: !Condition IsProd
        many: [!Select [0, [a]], !Split [",", "a,b"], !Base64 hi, !GetAZs "", !ImportValue X]
        logic: [!Equals [a, b], !Not [!Condition C], !And [x, y], !Or [x, y]]
        more: [!FindInMap [M, a, b], !Cidr ["10.0.0.0/16", 2, 8]]
        """
    )
    assert loaded["ref"] == {"Ref": "Table"}
    assert loaded["att"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert loaded["att_list"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert loaded["sub"] == {"Fn::Sub": "${Table}-x"}
    assert loaded["sub_vars"] == {"Fn::Sub": ["${A}", {"A": {"Ref": "Table"}}]}
    assert loaded["join"] == {"Fn::Join": [",", ["a", "b"]]}
    assert loaded["if"] == {"Fn::If": ["IsProd", "a", "b"]}
    assert loaded["cond"] == {"Condition": "IsProd"}
    assert [next(iter(item)) for item in loaded["many"]] == [
        "Fn::Select",
        "Fn::Split",
        "Fn::Base64",
        "Fn::GetAZs",
        "Fn::ImportValue",
    ]
    assert [next(iter(item)) for item in loaded["logic"]] == [
        "Fn::Equals",
        "Fn::Not",
        "Fn::And",
        "Fn::Or",
    ]
    assert loaded["logic"][1] == {"Fn::Not": [{"Condition": "C"}]}
    assert [next(iter(item)) for item in loaded["more"]] == ["Fn::FindInMap", "Fn::Cidr"]


def test_loader_splits_get_att_on_the_first_dot_only() -> None:
    assert _yaml("x: !GetAtt Db.Endpoint.Address")["x"] == {
        "Fn::GetAtt": ["Db", "Endpoint.Address"]
    }


def test_resolver_gives_pseudo_parameters() -> None:
    resolver = _resolver({})
    assert resolver.resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert resolver.resolve({"Ref": "AWS::AccountId"}) == "123456789012"
    assert resolver.resolve({"Ref": "AWS::Partition"}) == "aws"
    assert resolver.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert resolver.resolve({"Ref": "AWS::StackName"}) == "pushgate-local"


def test_resolver_uses_parameter_defaults_and_overrides() -> None:
    template = {"Parameters": {"Level": {"Type": "String", "Default": "INFO"}, "N": {"Default": 5}}}
    assert _resolver(template).resolve({"Ref": "Level"}) == "INFO"
    assert _resolver(template).resolve({"Ref": "N"}) == "5"
    assert _resolver(template, Level="DEBUG").resolve({"Ref": "Level"}) == "DEBUG"


def test_resolver_splits_list_parameters() -> None:
    template = {"Parameters": {"Hosts": {"Type": "CommaDelimitedList", "Default": "a, b"}}}
    assert _resolver(template).resolve({"Ref": "Hosts"}) == ["a", "b"]


def test_resolver_refuses_a_parameter_without_value() -> None:
    with pytest.raises(TemplateError, match="no default"):
        _resolver({"Parameters": {"Secret": {"Type": "String"}}}).resolve({"Ref": "Secret"})


def test_resolver_resolves_resource_refs_and_attributes() -> None:
    resolver = _resolver({})
    assert resolver.resolve({"Ref": "Table"}) == "table-name"
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == (
        "arn:aws:sqs:us-east-1:123456789012:q"
    )
    assert resolver.resolve({"Fn::GetAtt": "Queue.Arn"}) == "arn:aws:sqs:us-east-1:123456789012:q"


def test_resolver_refuses_unknown_refs() -> None:
    with pytest.raises(TemplateError, match="Nope"):
        _resolver({}).resolve({"Ref": "Nope"})


def test_resolver_substitutes_refs_attributes_variables_and_literals() -> None:
    text = "${AWS::Region}/${Table}/${Queue.Arn}/${Name}/${!Literal}"
    resolved = _resolver({}).resolve({"Fn::Sub": [text, {"Name": {"Ref": "Table"}}]})
    assert (
        resolved
        == "us-east-1/table-name/arn:aws:sqs:us-east-1:123456789012:q/table-name/${Literal}"
    )


def test_resolver_joins_selects_and_splits() -> None:
    resolver = _resolver({})
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Table"}, 3]]}) == "a-table-name-3"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"


def test_resolver_evaluates_conditions_in_if() -> None:
    template = {
        "Parameters": {"Stage": {"Default": "dev"}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsNotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "IsNotProd"}, {"Fn::Equals": ["a", "a"]}]},
        },
    }
    expression = {"Fn::If": ["Both", "yes", "no"]}
    assert _resolver(template).resolve(expression) == "yes"
    assert _resolver(template, Stage="prod").resolve(expression) == "no"


def test_resolver_drops_no_value() -> None:
    template = {"Conditions": {"Never": {"Fn::Equals": ["a", "b"]}}}
    resolved = _resolver(template).resolve(
        {
            "Keep": 1,
            "Drop": {"Fn::If": ["Never", 2, {"Ref": "AWS::NoValue"}]},
            "List": [
                {"Ref": "AWS::NoValue"},
                "x",
            ],
        }
    )
    assert resolved == {"Keep": 1, "List": ["x"]}
    assert NO_VALUE not in resolved.values()


def test_resolver_finds_in_maps_and_encodes_base64() -> None:
    resolver = _resolver({"Mappings": {"Sizes": {"dev": {"memory": 256}}}})
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", "dev", "memory"]}) == 256
    assert resolver.resolve({"Fn::Base64": "hi"}) == "aGk="


def test_resolver_computes_cidr_blocks_and_azs() -> None:
    resolver = _resolver({})
    assert resolver.resolve({"Fn::Cidr": ["10.0.0.0/16", 2, 8]}) == ["10.0.0.0/24", "10.0.1.0/24"]
    assert resolver.resolve({"Fn::GetAZs": ""})[0] == "us-east-1a"


def test_merge_globals_merges_maps_adds_lists_and_lets_the_function_win() -> None:
    global_props = {
        "Timeout": 10,
        "Layers": ["L1"],
        "Environment": {"Variables": {"A": "global", "B": "global"}},
    }
    function_props = {"Timeout": 3, "Layers": ["L2"], "Environment": {"Variables": {"B": "fn"}}}
    merged = merge_globals(global_props, function_props)
    assert merged == {
        "Timeout": 3,
        "Layers": ["L1", "L2"],
        "Environment": {"Variables": {"A": "global", "B": "fn"}},
    }
    assert global_props["Environment"]["Variables"]["B"] == "global"


def test_load_template_applies_globals_to_functions(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        textwrap.dedent(
            """
            Globals:
              Function:
                Handler: app.lambda_handler
                Environment: {Variables: {A: a}}
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties: {CodeUri: fn/, Environment: {Variables: {B: b}}}
              Table:
                Type: AWS::DynamoDB::Table
            """
        )
    )
    template = load_template(path)
    props = template["Resources"]["Fn"]["Properties"]
    assert props["Handler"] == "app.lambda_handler"
    assert props["Environment"]["Variables"] == {"A": "a", "B": "b"}
    assert "Handler" not in template["Resources"]["Table"]


def test_load_template_refuses_a_file_without_resources(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Description: nothing\n")
    with pytest.raises(TemplateError, match="no Resources"):
        load_template(path)


def test_dependency_order_puts_referenced_resources_first() -> None:
    resources = {
        "Fn": {"Properties": {"Env": {"Fn::Sub": "${Queue.Arn}"}}},
        "Queue": {
            "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}}
        },
        "Dlq": {},
        "Alarm": {"DependsOn": "Fn"},
    }
    order = dependency_order(resources)
    assert order.index("Dlq") < order.index("Queue") < order.index("Fn") < order.index("Alarm")


def test_dependency_order_reports_cycles() -> None:
    resources = {"A": {"Properties": {"x": {"Ref": "B"}}}, "B": {"Properties": {"x": {"Ref": "A"}}}}
    with pytest.raises(TemplateError, match="circular"):
        dependency_order(resources)
