"""CloudWatch alarms: each exists, watches the right metric and notifies the topic."""

import json
from pathlib import Path

from helpers import of_type, one_of_type, ref_name


def _alarms(resources) -> dict[str, dict]:
    return {
        name: r["Properties"] for name, r in of_type(resources, "AWS::CloudWatch::Alarm").items()
    }


def _alarm(resources, prefix: str) -> dict:
    return one_of_type(resources, "AWS::CloudWatch::Alarm", prefix)[1]["Properties"]


def test_every_alarm_notifies_the_topic(resources):
    (topic,) = of_type(resources, "AWS::SNS::Topic")
    alarms = _alarms(resources)
    assert len(alarms) == 11
    for props in alarms.values():
        assert [ref_name(a) for a in props["AlarmActions"]] == [topic]


def test_unhealthy_hosts_per_target_group(resources):
    for prefix, group_prefix in (
        ("WebUnhealthyHosts", "WebTargets"),
        ("LitellmUnhealthyHosts", "LitellmTargets"),
    ):
        props = _alarm(resources, prefix)
        assert props["MetricName"] == "UnHealthyHostCount"
        assert props["Namespace"] == "AWS/ApplicationELB"
        assert props["Threshold"] == 1
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        dimensions = {d["Name"]: d["Value"] for d in props["Dimensions"]}
        group, _ = one_of_type(resources, "AWS::ElasticLoadBalancingV2::TargetGroup", group_prefix)
        assert group in json.dumps(dimensions["TargetGroup"])


def test_5xx_rate_divides_5xx_by_requests(resources):
    props = _alarm(resources, "Http5xxRate")
    expression = next(m["Expression"] for m in props["Metrics"] if "Expression" in m)
    assert "/ MAX([FILL(requests, 0), 1])" in expression
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m}
    assert names == {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}
    assert props["Threshold"] == 5
    assert props["ComparisonOperator"] == "GreaterThanThreshold"


def test_cpu_and_memory_above_80_percent_per_service(resources):
    for service in ("Web", "Worker", "Litellm"):
        service_name, _ = one_of_type(resources, "AWS::ECS::Service", f"{service}Service")
        for kind, metric in (("Cpu", "CPUUtilization"), ("Memory", "MemoryUtilization")):
            props = _alarm(resources, f"{service}{kind}High")
            assert props["MetricName"] == metric
            assert props["Namespace"] == "AWS/ECS"
            assert props["Threshold"] == 80
            assert props["ComparisonOperator"] == "GreaterThanThreshold"
            dimensions = {d["Name"]: d["Value"] for d in props["Dimensions"]}
            assert service_name in json.dumps(dimensions["ServiceName"])


def test_litellm_running_tasks_below_one(resources):
    props = _alarm(resources, "LitellmRunningTasksLow")
    assert (props["Namespace"], props["MetricName"]) == (
        "ECS/ContainerInsights",
        "RunningTaskCount",
    )
    assert props["Threshold"] == 1
    assert props["ComparisonOperator"] == "LessThanThreshold"
    assert props["TreatMissingData"] == "breaching"
    litellm, _ = one_of_type(resources, "AWS::ECS::Service", "LitellmService")
    dimensions = {d["Name"]: d["Value"] for d in props["Dimensions"]}
    assert litellm in json.dumps(dimensions["ServiceName"])


def test_oldest_queued_run_age_uses_the_metric_the_worker_publishes(resources):
    props = _alarm(resources, "OldestQueuedRunAge")
    assert props["Namespace"] == "Remorai"
    assert props["MetricName"] == "OldestQueuedRunAgeSeconds"
    assert props["Threshold"] == 900
    assert props["TreatMissingData"] == "breaching"
    # The same names as the app's publisher (read as text: the CDK venv has no Django).
    source = (Path(__file__).resolve().parents[2] / "extraction" / "queue_metrics.py").read_text()
    assert 'OLDEST_QUEUED_RUN_METRIC = "OldestQueuedRunAgeSeconds"' in source
    settings = (Path(__file__).resolve().parents[2] / "remorai" / "settings.py").read_text()
    assert 'env.str("QUEUE_METRICS_NAMESPACE", default="Remorai")' in settings


def test_alarm_email_subscribes_to_the_topic():
    from conftest import synth

    _, template = synth({"alarm_email": "ops@example.com"})
    subscriptions = of_type(template.to_json()["Resources"], "AWS::SNS::Subscription")
    assert [s["Properties"]["Endpoint"] for s in subscriptions.values()] == ["ops@example.com"]
