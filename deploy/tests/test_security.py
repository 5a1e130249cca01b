"""Secrets, IAM and data: who may read what, no wildcard actions, a private encrypted bucket."""

from helpers import (
    as_list,
    mentions,
    of_type,
    one_of_type,
    ref_name,
    secrets,
    statements,
    task,
)

PROVIDER_KEYS = {"OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY"}


def _secret_named(resources, name: str) -> str:
    (found,) = [
        logical
        for logical, r in of_type(resources, "AWS::SecretsManager::Secret").items()
        if r["Properties"].get("Name") == name
    ]
    return found


def _execution_role(resources, prefix: str) -> str:
    return ref_name(task(resources, prefix)["ExecutionRoleArn"])


def _task_role(resources, prefix: str) -> str:
    return ref_name(task(resources, prefix)["TaskRoleArn"])


def test_provider_keys_secret_holds_the_three_keys_as_fields(resources):
    api_keys = _secret_named(resources, "remorai/llm/api-keys")
    generate = resources[api_keys]["Properties"]["GenerateSecretString"]
    import json

    assert set(json.loads(generate["SecretStringTemplate"])) == PROVIDER_KEYS
    # No key value is ever in the template.
    assert "SecretString" not in resources[api_keys]["Properties"]


def test_provider_keys_are_injected_into_litellm_web_and_worker_only(resources):
    api_keys = _secret_named(resources, "remorai/llm/api-keys")
    for prefix in ("LitellmTask", "WebTask", "WorkerTask"):
        injected = secrets(resources, prefix)
        assert {k for k, v in injected.items() if v == api_keys} == PROVIDER_KEYS, prefix
    assert api_keys not in secrets(resources, "MigrateTask").values()


def test_provider_keys_are_readable_only_by_those_execution_roles(resources):
    api_keys = _secret_named(resources, "remorai/llm/api-keys")
    readers = set()
    for _, roles, statement in statements(resources):
        if mentions(statement.get("Resource"), api_keys):
            assert statement["Effect"] == "Allow"
            assert set(as_list(statement["Action"])) == {
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
            }
            readers |= roles
    assert readers == {
        _execution_role(resources, "LitellmTask"),
        _execution_role(resources, "WebTask"),
        _execution_role(resources, "WorkerTask"),
    }
    # …and nothing else grants it by resource policy.
    assert not of_type(resources, "AWS::SecretsManager::ResourcePolicy")


def test_master_key_reaches_the_proxy_and_its_clients(resources):
    master = _secret_named(resources, "remorai/litellm/master-key")
    assert secrets(resources, "LitellmTask")["LITELLM_MASTER_KEY_TOKEN"] == master
    for prefix in ("WebTask", "WorkerTask"):
        assert secrets(resources, prefix)["LITELLM_API_KEY_TOKEN"] == master
    readers = {
        role
        for _, roles, statement in statements(resources)
        if mentions(statement.get("Resource"), master)
        for role in roles
    }
    assert readers == {
        _execution_role(resources, p) for p in ("LitellmTask", "WebTask", "WorkerTask")
    }


def test_task_roles_never_read_secrets(resources):
    task_roles = {
        _task_role(resources, p) for p in ("LitellmTask", "WebTask", "WorkerTask", "MigrateTask")
    }
    for _, roles, statement in statements(resources):
        actions = as_list(statement["Action"])
        if any(a.startswith("secretsmanager:") for a in actions):
            assert not roles & task_roles


def test_no_wildcard_actions_in_any_allow(resources):
    offenders = []
    for policy, _, statement in statements(resources):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            if action == "*" or action.endswith(":*"):
                offenders.append((policy, action))
    assert offenders == []


def test_the_only_wildcard_resource_is_put_metric_data_scoped_by_namespace(resources):
    for _, roles, statement in statements(resources):
        if statement["Effect"] == "Allow" and "*" in as_list(statement["Resource"]):
            actions = set(as_list(statement["Action"]))
            # Neither action supports resource-level permissions.
            assert actions in ({"ecr:GetAuthorizationToken"}, {"cloudwatch:PutMetricData"})
            if actions == {"cloudwatch:PutMetricData"}:
                assert roles == {_task_role(resources, "WorkerTask")}
                assert statement["Condition"] == {
                    "StringEquals": {"cloudwatch:namespace": "Remorai"}
                }


def test_documents_bucket_is_private_encrypted_versioned_and_https_only(resources):
    (bucket_name, bucket) = next(iter(of_type(resources, "AWS::S3::Bucket").items()))
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "AccessControl" not in props and "WebsiteConfiguration" not in props
    (policy,) = of_type(resources, "AWS::S3::BucketPolicy").values()
    assert ref_name(policy["Properties"]["Bucket"]) == bucket_name
    document = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in document
    )
    assert all(s["Effect"] == "Deny" for s in document)  # no public or cross-account allow


def test_documents_read_write_goes_to_web_and_worker_task_roles_only(resources):
    (bucket_name,) = of_type(resources, "AWS::S3::Bucket")
    grants: dict[str, set[str]] = {}
    for _, roles, statement in statements(resources):
        if mentions(statement.get("Resource"), bucket_name):
            for role in roles:
                grants.setdefault(role, set()).update(as_list(statement["Action"]))
    assert grants == {
        _task_role(resources, p): {
            "s3:ListBucket",
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
        }
        for p in ("WebTask", "WorkerTask")
    }


def test_postgres_is_private_encrypted_with_its_own_generated_secret(resources):
    _, database = one_of_type(resources, "AWS::RDS::DBInstance", "Database")
    props = database["Properties"]
    assert props["Engine"] == "postgres"
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["DeletionProtection"] is True
    db_secret = _secret_named(resources, "remorai/db/credentials")
    assert mentions(props["MasterUserPassword"], db_secret)
    assert "GenerateSecretString" in resources[db_secret]["Properties"]
    (attachment_name,) = of_type(resources, "AWS::SecretsManager::SecretTargetAttachment")
    for prefix in ("WebTask", "WorkerTask", "MigrateTask"):
        injected = secrets(resources, prefix)
        assert injected["DB_USER"] == attachment_name
        assert injected["DB_PASSWORD"] == attachment_name
    assert attachment_name not in secrets(resources, "LitellmTask").values()
