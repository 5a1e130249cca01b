"""The public load balancer: HTTPS (HTTP redirected) to the web service, and `/litellm/*` to the
LiteLLM proxy's service."""

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from remorai_deploy.config import DeployConfig
from remorai_deploy.services import LITELLM_PORT, LITELLM_ROOT_PATH, WEB_PORT


def add_load_balancer(
    scope: Construct,
    *,
    config: DeployConfig,
    vpc: ec2.IVpc,
    security_group: ec2.ISecurityGroup,
    web_service: ecs.FargateService,
    litellm_service: ecs.FargateService,
) -> tuple[
    elbv2.ApplicationLoadBalancer, elbv2.ApplicationTargetGroup, elbv2.ApplicationTargetGroup
]:
    """The load balancer and its two target groups (web, litellm)."""
    alb = elbv2.ApplicationLoadBalancer(
        scope,
        "LoadBalancer",
        vpc=vpc,
        internet_facing=True,
        security_group=security_group,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
        drop_invalid_header_fields=True,
    )
    https = alb.add_listener(
        "Https",
        port=443,
        protocol=elbv2.ApplicationProtocol.HTTPS,
        open=False,
        certificates=[elbv2.ListenerCertificate.from_arn(config.certificate_arn)],
        ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
    )
    alb.add_redirect(source_port=80, target_port=443, open=False)
    web_targets = _targets(
        scope,
        "WebTargets",
        vpc=vpc,
        port=WEB_PORT,
        target=web_service.load_balancer_target(container_name="web", container_port=WEB_PORT),
        health_path="/healthz",
    )
    litellm_targets = _targets(
        scope,
        "LitellmTargets",
        vpc=vpc,
        port=LITELLM_PORT,
        target=litellm_service.load_balancer_target(
            container_name="litellm", container_port=LITELLM_PORT
        ),
        health_path=f"{LITELLM_ROOT_PATH}/health/liveliness",
    )
    https.add_target_groups("Web", target_groups=[web_targets])
    https.add_target_groups(
        "Litellm",
        target_groups=[litellm_targets],
        priority=10,
        conditions=[elbv2.ListenerCondition.path_patterns([f"{LITELLM_ROOT_PATH}/*"])],
    )
    return alb, web_targets, litellm_targets


def _targets(scope, construct_id, *, vpc, port, target, health_path):
    """An IP target group over HTTP, healthy after 2 answers of 200 on `health_path`."""
    return elbv2.ApplicationTargetGroup(
        scope,
        construct_id,
        vpc=vpc,
        port=port,
        protocol=elbv2.ApplicationProtocol.HTTP,
        target_type=elbv2.TargetType.IP,
        targets=[target],
        health_check=elbv2.HealthCheck(
            path=health_path,
            healthy_http_codes="200",
            interval=Duration.seconds(15),
            timeout=Duration.seconds(5),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        ),
        deregistration_delay=Duration.seconds(30),
    )
