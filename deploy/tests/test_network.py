"""The ALB (HTTPS, the /litellm/* rule, health checks) and the security groups between services."""

from helpers import of_type, one_of_type, ref_name
from remorai_deploy.config import DUMMY_CERTIFICATE_ARN


def _listeners(resources):
    return {
        r["Properties"]["Port"]: r
        for r in of_type(resources, "AWS::ElasticLoadBalancingV2::Listener").values()
    }


def test_https_listener_uses_the_certificate_and_forwards_to_web(resources):
    listeners = _listeners(resources)
    assert set(listeners) == {443, 80}
    https = listeners[443]["Properties"]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": DUMMY_CERTIFICATE_ARN}]
    web_tg, _ = one_of_type(resources, "AWS::ElasticLoadBalancingV2::TargetGroup", "WebTargets")
    (action,) = https["DefaultActions"]
    assert action["Type"] == "forward" and ref_name(action["TargetGroupArn"]) == web_tg
    (redirect,) = listeners[80]["Properties"]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"


def test_certificate_is_a_context_value():
    from conftest import synth

    arn = "arn:aws:acm:eu-west-1:111122223333:certificate/11111111-2222-3333-4444-555555555555"
    _, template = synth({"certificate_arn": arn})
    https = _listeners(template.to_json()["Resources"])[443]["Properties"]
    assert https["Certificates"] == [{"CertificateArn": arn}]


def test_litellm_prefix_rule_forwards_to_the_litellm_target_group(resources):
    (rule,) = of_type(resources, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    props = rule["Properties"]
    https_name = next(
        name
        for name, r in of_type(resources, "AWS::ElasticLoadBalancingV2::Listener").items()
        if r["Properties"]["Port"] == 443
    )
    assert ref_name(props["ListenerArn"]) == https_name
    assert props["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/litellm/*"]}}
    ]
    litellm_tg, _ = one_of_type(
        resources, "AWS::ElasticLoadBalancingV2::TargetGroup", "LitellmTargets"
    )
    (action,) = props["Actions"]
    assert action["Type"] == "forward" and ref_name(action["TargetGroupArn"]) == litellm_tg


def test_target_groups_ports_and_health_checks(resources):
    _, web = one_of_type(resources, "AWS::ElasticLoadBalancingV2::TargetGroup", "WebTargets")
    _, litellm = one_of_type(
        resources, "AWS::ElasticLoadBalancingV2::TargetGroup", "LitellmTargets"
    )
    assert web["Properties"]["Port"] == 8000
    assert web["Properties"]["TargetType"] == "ip"
    assert web["Properties"]["HealthCheckPath"] == "/healthz"
    assert litellm["Properties"]["Port"] == 4000
    assert litellm["Properties"]["TargetType"] == "ip"
    assert litellm["Properties"]["HealthCheckPath"] == "/litellm/health/liveliness"


def _group_ids(resources) -> dict[str, str]:
    """Logical id of each security group by the short names the stack uses."""
    names = {}
    for short, prefix in (
        ("alb", "AlbSecurityGroup"),
        ("web", "WebSecurityGroup"),
        ("worker", "WorkerSecurityGroup"),
        ("litellm", "LitellmSecurityGroup"),
        ("db", "DatabaseSecurityGroup"),
    ):
        name, _ = one_of_type(resources, "AWS::EC2::SecurityGroup", prefix)
        names[name] = short
    return names


def _ingress(resources) -> set[tuple[str, str, int]]:
    """(to, from, port) for every ingress rule, inline or standalone; "from" may be a CIDR."""
    names = _group_ids(resources)
    rules = set()
    for name, group in of_type(resources, "AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            source = rule.get("CidrIp") or names[ref_name(rule["SourceSecurityGroupId"])]
            rules.add((names.get(name, name), source, rule["FromPort"]))
    for rule in of_type(resources, "AWS::EC2::SecurityGroupIngress").values():
        props = rule["Properties"]
        assert props["FromPort"] == props["ToPort"]
        source = props.get("CidrIp") or names[ref_name(props["SourceSecurityGroupId"])]
        rules.add((names[ref_name(props["GroupId"])], source, props["FromPort"]))
    return rules


def test_security_groups_allow_only_the_paths_the_design_names(resources):
    assert _ingress(resources) == {
        ("alb", "0.0.0.0/0", 443),
        ("alb", "0.0.0.0/0", 80),
        ("web", "alb", 8000),
        ("litellm", "alb", 4000),
        ("litellm", "web", 4000),
        ("litellm", "worker", 4000),
        ("db", "web", 5432),
        ("db", "worker", 5432),
    }


def test_database_and_alb_have_no_open_egress(resources):
    names = _group_ids(resources)
    by_short = {short: name for name, short in names.items()}
    for short in ("alb", "db"):
        egress = resources[by_short[short]]["Properties"].get("SecurityGroupEgress", [])
        assert all(rule.get("CidrIp") != "0.0.0.0/0" for rule in egress), short
    alb_egress = {
        (
            names[ref_name(r["Properties"]["DestinationSecurityGroupId"])],
            r["Properties"]["FromPort"],
        )
        for r in of_type(resources, "AWS::EC2::SecurityGroupEgress").values()
        if ref_name(r["Properties"]["GroupId"]) == by_short["alb"]
    }
    assert alb_egress == {("web", 8000), ("litellm", 4000)}
