"""Small readers over a synthesized CloudFormation template (a dict)."""

import json


def of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def one_of_type(resources: dict, kind: str, prefix: str) -> tuple[str, dict]:
    matches = [(n, r) for n, r in of_type(resources, kind).items() if n.startswith(prefix)]
    assert len(matches) == 1, (kind, prefix, [n for n, _ in matches])
    return matches[0]


def ref_name(value) -> str:
    """Logical id behind {"Ref": x} or {"Fn::GetAtt": [x, …]}."""
    if "Ref" in value:
        return value["Ref"]
    return value["Fn::GetAtt"][0]


def task(resources: dict, prefix: str) -> dict:
    return one_of_type(resources, "AWS::ECS::TaskDefinition", prefix)[1]["Properties"]


def container(resources: dict, prefix: str) -> dict:
    (definition,) = task(resources, prefix)["ContainerDefinitions"]
    return definition


def environment(resources: dict, prefix: str) -> dict[str, str]:
    return {e["Name"]: e["Value"] for e in container(resources, prefix).get("Environment", [])}


def secrets(resources: dict, prefix: str) -> dict[str, str]:
    """Secret env name -> the logical id of the Secrets Manager secret it comes from."""
    found = {}
    for entry in container(resources, prefix).get("Secrets", []):
        value = entry["ValueFrom"]
        if "Fn::Join" in value:
            value = value["Fn::Join"][1][0]
        found[entry["Name"]] = ref_name(value)
    return found


def statements(resources: dict):
    """(policy logical id, attached role logical ids, statement) for every identity policy."""
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy":
            roles = {ref_name(r) for r in props.get("Roles", [])}
            for statement in props["PolicyDocument"]["Statement"]:
                yield name, roles, statement
        elif resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield name, {name}, statement


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def mentions(value, logical_id: str) -> bool:
    return f'"{logical_id}"' in json.dumps(value)
