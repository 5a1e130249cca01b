"""CloudWatch alarms, all notifying one SNS topic (optionally mailed to `alarm_email`)."""

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from remorai_deploy.config import DeployConfig

OLDEST_QUEUED_RUN_METRIC = "OldestQueuedRunAgeSeconds"
FIVE_XX_RATE_PERCENT = 5
UTILISATION_PERCENT = 80
MINUTE = Duration.minutes(1)
GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
LT = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD


def add_alarms(
    scope: Construct,
    *,
    config: DeployConfig,
    cluster: ecs.ICluster,
    alb: elbv2.ApplicationLoadBalancer,
    target_groups: dict[str, elbv2.ApplicationTargetGroup],
    services: dict[str, ecs.FargateService],
    litellm_service: ecs.FargateService,
    queue_metrics_namespace: str,
) -> sns.Topic:
    topic = sns.Topic(scope, "AlarmTopic", display_name="Remorai alarms")
    if config.alarm_email:
        topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
    action = cloudwatch_actions.SnsAction(topic)

    def alarm(construct_id: str, **kwargs) -> cloudwatch.Alarm:
        created = cloudwatch.Alarm(scope, construct_id, **kwargs)
        created.add_alarm_action(action)
        created.add_ok_action(action)
        return created

    for name, group in target_groups.items():
        alarm(
            f"{name}UnhealthyHosts",
            alarm_description=f"{name}: a target failed its health check for 3 minutes",
            metric=group.metrics.unhealthy_host_count(period=MINUTE, statistic="Maximum"),
            threshold=1,
            comparison_operator=GTE,
            evaluation_periods=3,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    # 5xx rate: answers with 5xx from the targets or the ALB itself, per 100 requests.
    count = {"statistic": "Sum", "period": Duration.minutes(5)}
    five_xx_rate = cloudwatch.MathExpression(
        expression="100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / MAX([FILL(requests, 0), 1])",
        using_metrics={
            "target5xx": alb.metrics.http_code_target(
                elbv2.HttpCodeTarget.TARGET_5XX_COUNT, **count
            ),
            "elb5xx": alb.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, **count),
            "requests": alb.metrics.request_count(**count),
        },
        label="5xx per 100 requests",
        period=Duration.minutes(5),
    )
    alarm(
        "Http5xxRate",
        alarm_description=f"More than {FIVE_XX_RATE_PERCENT}% of requests answered 5xx",
        metric=five_xx_rate,
        threshold=FIVE_XX_RATE_PERCENT,
        comparison_operator=GT,
        evaluation_periods=2,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )

    for name, service in services.items():
        for kind, metric in (
            ("Cpu", service.metric_cpu_utilization(period=Duration.minutes(5))),
            ("Memory", service.metric_memory_utilization(period=Duration.minutes(5))),
        ):
            alarm(
                f"{name}{kind}High",
                alarm_description=f"{name}: {kind.lower()} above {UTILISATION_PERCENT}% for 15 min",
                metric=metric,
                threshold=UTILISATION_PERCENT,
                comparison_operator=GT,
                evaluation_periods=3,
                treat_missing_data=cloudwatch.TreatMissingData.MISSING,
            )

    alarm(
        "LitellmRunningTasksLow",
        alarm_description="The LiteLLM proxy has no running task (the app falls back to direct)",
        metric=cloudwatch.Metric(
            namespace="ECS/ContainerInsights",
            metric_name="RunningTaskCount",
            dimensions_map={
                "ClusterName": cluster.cluster_name,
                "ServiceName": litellm_service.service_name,
            },
            statistic="Minimum",
            period=MINUTE,
        ),
        threshold=1,
        comparison_operator=LT,
        evaluation_periods=2,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )

    # Published every minute by the worker (extraction.queue_metrics.publish_queue_metrics);
    # missing data means the worker or its scheduler is down, which is an alarm too.
    alarm(
        "OldestQueuedRunAge",
        alarm_description=(
            f"A run has waited in the queue for more than {config.queue_age_alarm_seconds} s, "
            "or the worker stopped publishing the metric"
        ),
        metric=cloudwatch.Metric(
            namespace=queue_metrics_namespace,
            metric_name=OLDEST_QUEUED_RUN_METRIC,
            statistic="Maximum",
            period=Duration.minutes(5),
        ),
        threshold=config.queue_age_alarm_seconds,
        comparison_operator=GT,
        evaluation_periods=2,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )
    return topic
