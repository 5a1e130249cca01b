#!/usr/bin/env bash
# Release one app image: migrate with it first, then move web and worker onto it.
#
#   deploy/release.sh <image-tag> [-c key=value …]
#
# 1. cdk deploy with only the migrate task on the new tag (the services stay on the running tag);
#    on the very first release the stack is created with the worker at 0 (its queue tables do not
#    exist before the first migrate);
# 2. run the one-off migrate task and wait for it; stop here if it fails;
# 3. cdk deploy with everything on the new tag (ECS rolls web and worker; the circuit breaker
#    rolls back a deployment whose tasks do not become healthy).
# Migrations must therefore work with the previous release's code (add, then remove a release
# later). Needs the AWS CLI with credentials, and Node.js for the CDK CLI (npx aws-cdk@2).
set -euo pipefail

tag="${1:?usage: deploy/release.sh <image-tag> [-c key=value …]}"
shift
stack="${STACK_NAME:-Remorai}"
cdk=(${CDK:-npx --yes aws-cdk@2})
cd "$(dirname "$0")"

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

if current="$(output AppImageTag 2>/dev/null)" && [ -n "$current" ] && [ "$current" != "None" ]; then
  echo "== $stack runs $current; migrate task onto $tag"
  "${cdk[@]}" deploy "$stack" --require-approval never \
    -c app_image_tag="$current" -c migrate_image_tag="$tag" "$@"
else
  echo "== first release of $stack: creating it with the worker at 0"
  "${cdk[@]}" deploy "$stack" --require-approval never \
    -c app_image_tag="$tag" -c worker_count=0 "$@"
fi

cluster="$(output ClusterName)"
echo "== migrate ($tag)"
task_arn="$(aws ecs run-task --cluster "$cluster" --launch-type FARGATE \
  --task-definition "$(output MigrateTaskDefinition)" \
  --network-configuration "awsvpcConfiguration={subnets=[$(output PrivateSubnets)],securityGroups=[$(output MigrateSecurityGroup)],assignPublicIp=DISABLED}" \
  --query 'tasks[0].taskArn' --output text)"
aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task_arn"
exit_code="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
  --query 'tasks[0].containers[0].exitCode' --output text)"
if [ "$exit_code" != "0" ]; then
  echo "migrate failed (exit code $exit_code); nothing else changed. Logs: aws logs tail /${stack,,}/migrate" >&2
  exit 1
fi

echo "== web and worker onto $tag"
"${cdk[@]}" deploy "$stack" --require-approval never -c app_image_tag="$tag" "$@"
echo "released $tag"
