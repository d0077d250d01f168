"""The local stack's reading of CloudFormation: short-form tags and intrinsic functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizwatch_tools.localstack.cfn import Resolver, TemplateError, load_template, references

TEXT = """
Parameters:
  Name: {Type: String, Default: wiz}
  Count: {Type: Number}
Conditions:
  IsWiz: !Equals [!Ref Name, wiz]
Resources:
  Q: {Type: AWS::SQS::Queue}
  F:
    Type: AWS::Serverless::Function
    Properties:
      A: !Sub "${Name}-${AWS::Region}-${Q.Arn}"
      B: !Sub ["${X}/${Name}", {X: !GetAtt Q.QueueName}]
      C: !If [IsWiz, kept, !Ref AWS::NoValue]
      D: !Select [1, !Split [",", "a,b,c"]]
      E: !Join ["-", [!Ref Count, !Ref Name]]
      L: [!Ref Q, !If [IsWiz, !Ref AWS::NoValue, x]]
"""


@pytest.fixture
def template(tmp_path: Path) -> dict:
    path = tmp_path / "t.yaml"
    path.write_text(TEXT)
    return load_template(path)


def test_short_forms_become_long_forms(template: dict) -> None:
    props = template["Resources"]["F"]["Properties"]
    assert props["A"] == {"Fn::Sub": "${Name}-${AWS::Region}-${Q.Arn}"}
    assert props["C"] == {"Fn::If": ["IsWiz", "kept", {"Ref": "AWS::NoValue"}]}
    assert references(props) == {"Name", "AWS::Region", "Q", "Count", "AWS::NoValue"}


def test_resolution(template: dict) -> None:
    r = Resolver(template, {"Count": "3"}, {"AWS::Region": "us-east-1"})
    r.refs["Q"] = "https://q"
    r.attrs[("Q", "Arn")] = "arn:q"
    r.attrs[("Q", "QueueName")] = "q"
    props = r.resolve(template["Resources"]["F"]["Properties"])
    assert props == {
        "A": "wiz-us-east-1-arn:q",
        "B": "q/wiz",
        "C": "kept",
        "D": "b",
        "E": "3-wiz",
        "L": ["https://q"],
    }
    other = Resolver(template, {"Count": "1", "Name": "x"}, {"AWS::Region": "eu-west-1"})
    other.refs["Q"] = "u"
    other.attrs[("Q", "Arn")] = "arn:u"
    other.attrs[("Q", "QueueName")] = "u"
    resolved = other.resolve(template["Resources"]["F"]["Properties"])
    assert "C" not in resolved  # AWS::NoValue removes the property
    assert resolved["L"] == ["u", "x"]


def test_missing_and_unknown_parameters_are_errors(template: dict) -> None:
    with pytest.raises(TemplateError, match="Count"):
        Resolver(template, {}, {})
    with pytest.raises(TemplateError, match="Bogus"):
        Resolver(template, {"Count": "1", "Bogus": "x"}, {})


def test_unresolvable_reference_names_itself(template: dict) -> None:
    r = Resolver(template, {"Count": "1"}, {})
    with pytest.raises(TemplateError, match="Q"):
        r.resolve({"Ref": "Q"})
