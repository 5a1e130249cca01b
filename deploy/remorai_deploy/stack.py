"""The Remorai stack: network, data, secrets, the three Fargate services, the ALB and alarms."""

import json

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from remorai_deploy.alarms import add_alarms
from remorai_deploy.config import DeployConfig
from remorai_deploy.loadbalancer import add_load_balancer
from remorai_deploy.services import (
    LITELLM_PORT,
    LITELLM_ROOT_PATH,
    WEB_PORT,
    AppSecrets,
    litellm_task,
    remorai_task,
)

NAMESPACE = "remorai.internal"
LLM_API_KEYS_SECRET_NAME = "remorai/llm/api-keys"  # noqa: S105 - a name, not a value
PROVIDER_KEYS = ("OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY")
QUEUE_METRICS_NAMESPACE = "Remorai"


class RemoraiStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, **kwargs):
        super().__init__(scope, construct_id, **kwargs)

        # --- Network and cluster ----------------------------------------------------------------
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            ],
        )
        cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            # Container Insights gives RunningTaskCount, which the proxy's alarm watches.
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            default_cloud_map_namespace=ecs.CloudMapNamespaceOptions(
                name=NAMESPACE, type=servicediscovery.NamespaceType.DNS_PRIVATE, vpc=vpc
            ),
        )

        # --- Security groups: ALB → web and litellm; web and worker → litellm; nothing else ------
        alb_sg = ec2.SecurityGroup(
            self,
            "AlbSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Remorai ALB: HTTPS (and the HTTP redirect) from anywhere",
        )
        alb_sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS")
        alb_sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(80), "HTTP, redirected")
        # Tasks reach the providers, ECR and AWS APIs through the NAT gateway: outbound stays open.
        web_sg = ec2.SecurityGroup(
            self, "WebSecurityGroup", vpc=vpc, description="Remorai web (gunicorn)"
        )
        worker_sg = ec2.SecurityGroup(
            self, "WorkerSecurityGroup", vpc=vpc, description="Remorai worker (qcluster)"
        )
        litellm_sg = ec2.SecurityGroup(
            self, "LitellmSecurityGroup", vpc=vpc, description="LiteLLM proxy"
        )
        db_sg = ec2.SecurityGroup(
            self,
            "DatabaseSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Remorai PostgreSQL",
        )
        web_sg.add_ingress_rule(alb_sg, ec2.Port.tcp(WEB_PORT), "from the ALB")
        alb_sg.add_egress_rule(web_sg, ec2.Port.tcp(WEB_PORT), "to web")
        for source, why in (
            (alb_sg, "from the ALB"),
            (web_sg, "from web"),
            (worker_sg, "from worker"),
        ):
            litellm_sg.add_ingress_rule(source, ec2.Port.tcp(LITELLM_PORT), why)
        alb_sg.add_egress_rule(litellm_sg, ec2.Port.tcp(LITELLM_PORT), "to litellm")
        for source, why in ((web_sg, "from web"), (worker_sg, "from worker")):
            db_sg.add_ingress_rule(source, ec2.Port.tcp(5432), why)

        # --- Secrets ------------------------------------------------------------------------------
        # Provider keys: the operator puts the real values (docs/deploy.md); the template holds
        # only empty fields, so a redeploy never overwrites them.
        llm_api_keys = secretsmanager.Secret(
            self,
            "LlmApiKeys",
            secret_name=LLM_API_KEYS_SECRET_NAME,
            description="Provider API keys for the LiteLLM proxy and the direct fallback",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps(dict.fromkeys(PROVIDER_KEYS, "")),
                generate_string_key="unused",
                exclude_punctuation=True,
            ),
        )
        master_key = secretsmanager.Secret(
            self,
            "LitellmMasterKey",
            secret_name="remorai/litellm/master-key",  # noqa: S106 - a name
            description="LiteLLM master key token (used as sk-<token>)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}",  # noqa: S106 - an empty template
                generate_string_key="token",
                exclude_punctuation=True,
                password_length=48,
            ),
        )
        django_secret_key = secretsmanager.Secret(
            self,
            "DjangoSecretKey",
            secret_name="remorai/django/secret-key",  # noqa: S106 - a name
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_characters="\"'\\`$", password_length=64
            ),
        )

        # --- Data: PostgreSQL and the documents bucket -------------------------------------------
        database = rds.DatabaseInstance(
            self,
            "Database",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16_9),
            instance_type=ec2.InstanceType(config.db_instance_type),
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[db_sg],
            database_name="remorai",
            credentials=rds.Credentials.from_generated_secret(
                "remorai",
                secret_name="remorai/db/credentials",  # noqa: S106 - a name
            ),
            storage_encrypted=True,
            allocated_storage=config.db_allocated_storage_gib,
            multi_az=config.db_multi_az,
            backup_retention=Duration.days(7),
            deletion_protection=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
            publicly_accessible=False,
        )
        documents = s3.Bucket(
            self,
            "Documents",
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )

        # --- Services -----------------------------------------------------------------------------
        secrets = AppSecrets(
            provider_keys={
                key: ecs.Secret.from_secrets_manager(llm_api_keys, key) for key in PROVIDER_KEYS
            },
            master_key_token=ecs.Secret.from_secrets_manager(master_key, "token"),
            django_secret_key=ecs.Secret.from_secrets_manager(django_secret_key),
            db_user=ecs.Secret.from_secrets_manager(database.secret, "username"),
            db_password=ecs.Secret.from_secrets_manager(database.secret, "password"),
        )
        litellm_base_url = f"http://litellm.{NAMESPACE}:{LITELLM_PORT}{LITELLM_ROOT_PATH}"
        app_environment = {
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": config.domain_name,
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{config.domain_name}",
            "DB_HOST": database.db_instance_endpoint_address,
            "DB_PORT": database.db_instance_endpoint_port,
            "DB_NAME": "remorai",
            "DB_SSLMODE": "require",
            "AWS_STORAGE_BUCKET_NAME": documents.bucket_name,
            "AWS_S3_REGION_NAME": self.region,
            "LOG_FORMAT": "json",
            # The ALB appends the client's address to X-Forwarded-For: trust that one entry.
            "NUM_PROXIES": "1",
        }
        if config.litellm_enabled:
            app_environment["LITELLM_BASE_URL"] = litellm_base_url

        repository = ecr.Repository.from_repository_name(
            self, "AppRepository", config.app_repository
        )
        app_image = ecs.ContainerImage.from_ecr_repository(repository, config.app_image_tag)
        migrate_image = ecs.ContainerImage.from_ecr_repository(
            repository, config.effective_migrate_image_tag
        )

        web_task = remorai_task(
            self,
            "Web",
            role="web",
            image=app_image,
            cpu=config.web_cpu,
            memory_mib=config.web_memory_mib,
            environment=app_environment,
            secrets=secrets,
            retention=config.log_retention,
            port=WEB_PORT,
        )
        worker_task = remorai_task(
            self,
            "Worker",
            role="worker",
            image=app_image,
            cpu=config.worker_cpu,
            memory_mib=config.worker_memory_mib,
            environment={**app_environment, "QUEUE_METRICS_ENABLED": "true"},
            secrets=secrets,
            retention=config.log_retention,
            # Fargate's longest: a run cut short is re-delivered (at least once) and re-claimed.
            stop_timeout_seconds=120,
        )
        migrate_task = remorai_task(
            self,
            "Migrate",
            role="migrate",
            image=migrate_image,
            cpu=512,
            memory_mib=1024,
            environment=app_environment,
            secrets=secrets,
            retention=config.log_retention,
        )
        litellm = litellm_task(
            self,
            "Litellm",
            image=ecs.ContainerImage.from_registry(config.litellm_image),
            cpu=config.litellm_cpu,
            memory_mib=config.litellm_memory_mib,
            secrets=secrets,
            retention=config.log_retention,
        )

        # Documents: read/write for web and worker's TASK roles (the app's own AWS calls).
        for task in (web_task, worker_task):
            grant_documents(documents, task.task_role)
        worker_task.task_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resource-level permissions
                conditions={"StringEquals": {"cloudwatch:namespace": QUEUE_METRICS_NAMESPACE}},
            )
        )

        private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        common = {
            "cluster": cluster,
            "vpc_subnets": private,
            "assign_public_ip": False,
            "circuit_breaker": ecs.DeploymentCircuitBreaker(rollback=True),
            "min_healthy_percent": 100,
            "max_healthy_percent": 200,
        }
        web_service = ecs.FargateService(
            self,
            "WebService",
            task_definition=web_task,
            desired_count=config.web_count,
            security_groups=[web_sg],
            health_check_grace_period=Duration.seconds(60),
            **common,
        )
        worker_service = ecs.FargateService(
            self,
            "WorkerService",
            task_definition=worker_task,
            desired_count=config.worker_count,
            security_groups=[worker_sg],
            **common,
        )
        litellm_service = ecs.FargateService(
            self,
            "LitellmService",
            task_definition=litellm,
            desired_count=config.litellm_count,
            security_groups=[litellm_sg],
            health_check_grace_period=Duration.seconds(60),
            cloud_map_options=ecs.CloudMapOptions(
                name="litellm", container_port=LITELLM_PORT, dns_ttl=Duration.seconds(10)
            ),
            **common,
        )

        # --- Load balancer: HTTPS to web, /litellm/* to the proxy ------------------------------
        alb, web_targets, litellm_targets = add_load_balancer(
            self,
            config=config,
            vpc=vpc,
            security_group=alb_sg,
            web_service=web_service,
            litellm_service=litellm_service,
        )

        # --- Alarms -------------------------------------------------------------------------------
        add_alarms(
            self,
            config=config,
            cluster=cluster,
            alb=alb,
            target_groups={"Web": web_targets, "Litellm": litellm_targets},
            services={"Web": web_service, "Worker": worker_service, "Litellm": litellm_service},
            litellm_service=litellm_service,
            queue_metrics_namespace=QUEUE_METRICS_NAMESPACE,
        )

        # --- Outputs for the release script and the runbook --------------------------------------
        CfnOutput(self, "LoadBalancerDns", value=alb.load_balancer_dns_name)
        CfnOutput(self, "ClusterName", value=cluster.cluster_name)
        CfnOutput(self, "MigrateTaskDefinition", value=migrate_task.task_definition_arn)
        CfnOutput(self, "MigrateSecurityGroup", value=web_sg.security_group_id)
        CfnOutput(
            self,
            "PrivateSubnets",
            value=",".join(
                s.subnet_id for s in vpc.select_subnets(subnet_group_name="app").subnets
            ),
        )
        CfnOutput(self, "AppImageTag", value=config.app_image_tag)
        CfnOutput(self, "WorkerServiceName", value=worker_service.service_name)
        CfnOutput(self, "DocumentsBucket", value=documents.bucket_name)
        CfnOutput(
            self,
            "LitellmBaseUrl",
            value=litellm_base_url if config.litellm_enabled else "off (web and worker go direct)",
        )


def grant_documents(bucket: s3.IBucket, role: iam.IRole) -> None:
    """Read/write on the documents, with named actions only (no s3:* or s3:Get*)."""
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            resources=[bucket.arn_for_objects("*")],
        )
    )
