"""What the local stack reads from a template besides resources: here, the parameters that the
caller's environment gives through the variables they feed."""

from __future__ import annotations

import textwrap
from pathlib import Path

from local.cfn import load_template
from local.template import parameters_from_environment

TEMPLATE = """
Parameters:
  AllowedHosts: {Type: String, Default: ""}
  LogLevel: {Type: String, Default: INFO}
  Issuers: {Type: String, Default: "[]"}
  Unused: {Type: String, Default: x}
Globals:
  Function:
    Environment:
      Variables:
        PUSHGATE_WEBPUSH_ALLOWED_HOSTS: !Ref AllowedHosts
        PUSHGATE_TRUSTED_ISSUERS: !Ref Issuers
        POWERTOOLS_LOG_LEVEL: !Ref LogLevel
        APPS_TABLE_NAME: !Ref Table
        LABEL: !Sub "${LogLevel}-label"
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          WORKER_LEVEL: !Ref LogLevel
"""


def _template(tmp_path: Path) -> dict:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(TEMPLATE))
    return load_template(path)


def test_parameters_from_environment_takes_the_variables_set_from_a_parameter(tmp_path):
    environ = {
        "PUSHGATE_WEBPUSH_ALLOWED_HOSTS": "push.example.org",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "APPS_TABLE_NAME": "mine",  # a resource, not a parameter
        "LABEL": "x",  # not a bare Ref
        "Unused": "y",  # a parameter name is not a variable
    }

    parameters = parameters_from_environment(_template(tmp_path), environ)

    assert parameters == {"AllowedHosts": "push.example.org", "LogLevel": "DEBUG"}


def test_parameters_from_environment_skips_excluded_variables(tmp_path):
    environ = {"PUSHGATE_TRUSTED_ISSUERS": "[{}]", "PUSHGATE_WEBPUSH_ALLOWED_HOSTS": "a.example"}

    parameters = parameters_from_environment(
        _template(tmp_path), environ, excluded=("PUSHGATE_TRUSTED_ISSUERS",)
    )

    assert parameters == {"AllowedHosts": "a.example"}


def test_parameters_from_environment_reads_function_variables_too(tmp_path):
    assert parameters_from_environment(_template(tmp_path), {"WORKER_LEVEL": "ERROR"}) == {
        "LogLevel": "ERROR"
    }


def test_parameters_from_environment_is_empty_without_matching_variables(tmp_path):
    assert parameters_from_environment(_template(tmp_path), {"PATH": "/bin"}) == {}
