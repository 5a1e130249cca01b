"""Deployment settings: CDK context values with their defaults.

Every value can be changed with `-c key=value` (cdk CLI, or `python app.py -c key=value`), or in
cdk.json's "context". Values given on the command line arrive as strings, so each is parsed here.
"""

from dataclasses import dataclass, fields
from pathlib import Path

from aws_cdk import aws_logs as logs

DEPLOY_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = DEPLOY_DIR.parent
LITELLM_CONFIG = DEPLOY_DIR / "litellm" / "config.yaml"
LITELLM_START_SCRIPT = DEPLOY_DIR / "litellm" / "start.sh"

# A syntactically valid ARN so that `synth` works without an account; deploy with a real one.
DUMMY_CERTIFICATE_ARN = (
    "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
)

RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


@dataclass(frozen=True)
class DeployConfig:
    # The app image: built from the repo's Dockerfile and pushed to this ECR repository.
    app_repository: str = "remorai"
    app_image_tag: str = "latest"
    # The image the one-off migrate task runs; a release migrates with the new image before the
    # services move to it (deploy/release.sh). Empty: the same as app_image_tag.
    migrate_image_tag: str = ""
    # LiteLLM proxy. The tag matches requirements-litellm.txt (tests check it).
    litellm_image: str = "ghcr.io/berriai/litellm:v1.108.7"
    # The rollback switch: false → web and worker get no LITELLM_BASE_URL and call the providers
    # directly; the proxy service keeps running so switching back is instant.
    litellm_enabled: bool = True
    # 1 GiB / 0.5 vCPU: the proxy's RSS is ≈340 MB idle and ≈470 MB after its first requests, so
    # 512 MiB leaves no headroom for a burst of uploads (docs/deploy.md, "Sizing the proxy").
    litellm_cpu: int = 512
    litellm_memory_mib: int = 1024
    litellm_count: int = 1
    web_cpu: int = 512
    web_memory_mib: int = 1024
    web_count: int = 2
    worker_cpu: int = 1024
    worker_memory_mib: int = 2048
    worker_count: int = 1
    # ALB HTTPS.
    certificate_arn: str = DUMMY_CERTIFICATE_ARN
    domain_name: str = "remorai.example.com"
    # Data.
    db_instance_type: str = "t4g.small"
    db_allocated_storage_gib: int = 20
    db_multi_az: bool = False
    # Operations.
    log_retention_days: int = 30
    alarm_email: str = ""
    queue_age_alarm_seconds: int = 900
    nat_gateways: int = 1

    @classmethod
    def from_context(cls, get) -> "DeployConfig":
        """Build from a context getter (`node.try_get_context`); unknown types fail loudly."""
        values = {}
        for field in fields(cls):
            raw = get(field.name)
            if raw is None:
                continue
            values[field.name] = _parse(field.name, field.type, raw)
        config = cls(**values)
        if config.log_retention_days not in RETENTION:
            raise ValueError(
                f"log_retention_days must be one of {sorted(RETENTION)}, "
                f"not {config.log_retention_days}"
            )
        return config

    @property
    def effective_migrate_image_tag(self) -> str:
        return self.migrate_image_tag or self.app_image_tag

    @property
    def log_retention(self) -> logs.RetentionDays:
        return RETENTION[self.log_retention_days]


def _parse(name: str, kind, raw):
    if kind in (bool, "bool"):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"context {name} must be true or false, not {raw!r}")
    if kind in (int, "int"):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"context {name} must be an integer, not {raw!r}") from None
    return str(raw)
