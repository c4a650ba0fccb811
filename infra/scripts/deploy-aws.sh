#!/usr/bin/env bash
# `npm run deploy:aws -- [--stage dev] [--region us-east-1] [more serverless deploy options]`
#
# One command for the whole AWS deployment (README "Deploy to AWS"). `serverless deploy` alone
# cannot build the relay image, so this script:
#   1. checks the tools, the AWS credentials and the config secret (and validates its content);
#   2. on the first deploy, creates the stack with the relay scaled to 0 (the ECR repository the
#      image goes to is part of the stack, so it has to exist before the push);
#   3. builds infra/relay/Dockerfile for linux/arm64 and pushes it to that repository;
#   4. deploys with the new image tag and the desired relay count (default 1).
# Needs: AWS credentials (any way the AWS CLI finds them), the AWS CLI v2, Docker with BuildKit.
set -euo pipefail
cd "$(dirname "$0")/../.."

SERVICE=dingtalk-channel
stage="dev"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --stage | -s) stage="$2"; shift 2 ;;
    --stage=*) stage="${1#*=}"; shift ;;
    --region | -r) region="$2"; shift 2 ;;
    --region=*) region="${1#*=}"; shift ;;
    *) passthrough+=("$1"); shift ;;
  esac
done

fail() { echo "deploy-aws: $*" >&2; exit 1; }
step() { echo "==> $*"; }

[ "$stage" != "local" ] || fail "stage 'local' is for invoke local / serverless-offline only; pick another --stage"
command -v aws >/dev/null || fail "the AWS CLI v2 is required (https://docs.aws.amazon.com/cli/)"
command -v docker >/dev/null || fail "Docker is required to build the relay image"
docker info >/dev/null 2>&1 || fail "Docker is installed but its engine is not reachable (is it running?)"
region="${region:-$(aws configure get region 2>/dev/null || true)}"
region="${region:-us-east-1}"
export AWS_REGION="$region" SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off

step "AWS account and credentials"
account=$(aws sts get-caller-identity --query Account --output text) ||
  fail "no usable AWS credentials (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID/SECRET)"
stack="$SERVICE-$stage"
secret_name="${CONFIG_SECRET:-$SERVICE/$stage}"
echo "    account $account, region $region, stack $stack, config secret $secret_name"

step "Config secret"
secret_arn=$(aws secretsmanager describe-secret --secret-id "$secret_name" --query ARN --output text 2>/dev/null) ||
  fail "secret '$secret_name' not found in $region. Create it first (README \"Deploy to AWS\", step 2):
  aws secretsmanager create-secret --region $region --name '$secret_name' --secret-string file://dingtalk.secret.json"
# The VersionId that carries the AWSCURRENT label: passing it makes a changed secret redeploy.
secret_version=$(aws secretsmanager list-secret-version-ids --secret-id "$secret_arn" \
  --query "Versions[?contains(VersionStages, 'AWSCURRENT')].VersionId | [0]" --output text)
config_json=$(aws secretsmanager get-secret-value --secret-id "$secret_arn" --query SecretString --output text)
DINGTALK_CONFIG="$config_json" npx --no-install tsx infra/scripts/check-config.ts ${passthrough[@]+"${passthrough[@]}"}
unset config_json

params=(
  "--param=configSecret=$secret_name"
  "--param=configSecretArn=$secret_arn"
  "--param=configSecretVersion=$secret_version"
)
sls() { npx --no-install serverless "$@" --stage "$stage" --region "$region"; }
stack_output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue | [0]" --output text 2>/dev/null || true
}

repo_uri=$(stack_output RelayRepositoryUri)
if [ -z "$repo_uri" ] || [ "$repo_uri" = "None" ]; then
  step "First deploy: creating the stack with the relay scaled to 0 (its image repository comes with it)"
  # `--param` given later wins: the user's passthrough options first, the bootstrap values last.
  sls deploy "${params[@]}" ${passthrough[@]+"${passthrough[@]}"} "--param=relayDesiredCount=0" "--param=relayImageTag=none"
  repo_uri=$(stack_output RelayRepositoryUri)
  [ -n "$repo_uri" ] && [ "$repo_uri" != "None" ] || fail "the stack has no RelayRepositoryUri output"
fi

tag="$(git rev-parse --short=12 HEAD 2>/dev/null || echo build)-$(date -u +%Y%m%d%H%M%S)"
step "Relay image $repo_uri:$tag (linux/arm64)"
aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "${repo_uri%%/*}"
DOCKER_BUILDKIT=1 docker build --platform linux/arm64 -f infra/relay/Dockerfile -t "$repo_uri:$tag" .
docker push "$repo_uri:$tag"

step "Deploying functions, table and relay"
sls deploy "${params[@]}" "--param=relayImageTag=$tag" ${passthrough[@]+"${passthrough[@]}"}

step "Done"
aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[].[OutputKey,OutputValue]" --output table
echo "Relay logs: aws logs tail /ecs/$stack/relay --follow --region $region"
