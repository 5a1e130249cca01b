# The LiteLLM container's start on ECS: `/bin/sh -c "<this file>"` replaces the stock image's
# entrypoint (deploy/remorai_deploy/services.py), so the image needs no rebuild:
# - writes our config, passed in LITELLM_CONFIG_YAML (deploy/litellm/config.yaml at synth time);
# - prefixes the master key token with "sk-" (LiteLLM keys start with "sk-"; Secrets Manager
#   cannot generate a prefixed string), then drops the token from the environment;
# - SERVER_ROOT_PATH=/litellm (set by the task) makes it serve under the ALB's /litellm/ prefix.
# tests/deploy/test_litellm_start.py runs this file with the real proxy (.venv-litellm).
set -eu
config="${LITELLM_CONFIG_PATH:-/tmp/litellm-config.yaml}"
printf '%s' "$LITELLM_CONFIG_YAML" > "$config"
LITELLM_MASTER_KEY="sk-$LITELLM_MASTER_KEY_TOKEN"
export LITELLM_MASTER_KEY
unset LITELLM_MASTER_KEY_TOKEN LITELLM_CONFIG_YAML
exec litellm --config "$config" --host "${LITELLM_HOST:-0.0.0.0}" --port "${LITELLM_PORT:-4000}"
