#!/usr/bin/env bash
# `npm run deploy:aws -- [--stage dev] [--region us-east-1] [more serverless deploy options]`
#
# One command for the whole AWS deployment (README "Deploy to AWS"). `serverless deploy` alone
# does not ship the relay's code, so this script:
#   1. checks the tools, the AWS credentials and the config secret (and validates its content);
#   2. on the first deploy, creates the stack with the relay scaled to 0 (the bucket and the
#      image repository the relay's code goes to are part of the stack);
#   3. builds the single-file relay bundle and uploads it to the stack's bucket — or, with
#      --relay-image, builds infra/relay/Dockerfile for linux/arm64 and pushes it;
#   4. deploys with that bundle (or image) and the desired relay count (default 1).
# Needs: AWS credentials (any way the AWS CLI finds them), the AWS CLI v2, Node (this checkout's
# dependencies installed). Docker with BuildKit only for --relay-image.
set -euo pipefail
cd "$(dirname "$0")/../.."

SERVICE=dingtalk-channel
stage="dev"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
relay_source="bundle"
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --relay-image) relay_source="image"; shift ;;
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
if [ "$relay_source" = image ]; then
  command -v docker >/dev/null || fail "--relay-image needs Docker to build the relay image (or deploy without it: drop --relay-image)"
  docker info >/dev/null 2>&1 || fail "Docker is installed but its engine is not reachable (is it running?)"
fi
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

bucket=$(stack_output RelayBundleBucketName)
if [ -z "$bucket" ] || [ "$bucket" = "None" ]; then
  step "First deploy: creating the stack with the relay scaled to 0 (its bucket and image repository come with it)"
  # `--param` given later wins: the user's passthrough options first, the bootstrap values last.
  sls deploy "${params[@]}" ${passthrough[@]+"${passthrough[@]}"} "--param=relayDesiredCount=0" "--param=relaySource=bundle" "--param=relayBundle=none"
  bucket=$(stack_output RelayBundleBucketName)
  [ -n "$bucket" ] && [ "$bucket" != "None" ] || fail "the stack has no RelayBundleBucketName output"
fi

tag="$(git rev-parse --short=12 HEAD 2>/dev/null || echo build)-$(date -u +%Y%m%d%H%M%S)"
if [ "$relay_source" = bundle ]; then
  step "Relay bundle s3://$bucket/relay/$tag/relay.mjs (runs on the public Node 22 image; no Docker)"
  build_dir=$(mktemp -d)
  trap 'rm -rf "$build_dir"' EXIT
  node infra/scripts/build-relay.mjs --single-file --out-dir "$build_dir"
  aws s3 cp "$build_dir/relay.mjs" "s3://$bucket/relay/$tag/relay.mjs" --only-show-errors
  relay_params=("--param=relaySource=bundle" "--param=relayBundle=$tag")
else
  repo_uri=$(stack_output RelayRepositoryUri)
  [ -n "$repo_uri" ] && [ "$repo_uri" != "None" ] || fail "the stack has no RelayRepositoryUri output"
  step "Relay image $repo_uri:$tag (linux/arm64)"
  aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "${repo_uri%%/*}"
  DOCKER_BUILDKIT=1 docker build --platform linux/arm64 -f infra/relay/Dockerfile -t "$repo_uri:$tag" .
  docker push "$repo_uri:$tag"
  relay_params=("--param=relaySource=image" "--param=relayImageTag=$tag")
fi

step "Deploying functions, table and relay"
sls deploy "${params[@]}" "${relay_params[@]}" ${passthrough[@]+"${passthrough[@]}"}

step "Done"
aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[].[OutputKey,OutputValue]" --output table
echo "Relay logs: aws logs tail /ecs/$stack/relay --follow --region $region"
