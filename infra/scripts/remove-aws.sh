#!/usr/bin/env bash
# `npm run remove:aws -- [--stage dev] [--region us-east-1] [--yes]`
#
# Deletes the stack: functions, relay service, cluster, image repository (with its images), the
# relay bundle bucket (emptied first), VPC and the failure queue. The state table is retained
# (DeletionPolicy: Retain: pairings and the allowlist survive a remove/redeploy); delete it with
# `aws dynamodb delete-table --table-name dingtalk-channel-<stage>-state` when you mean it.
# The config secret is yours and stays; delete it with `aws secretsmanager delete-secret`.
set -euo pipefail
cd "$(dirname "$0")/../.."

stage="dev"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
confirmed=""
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --stage | -s) stage="$2"; shift 2 ;;
    --stage=*) stage="${1#*=}"; shift ;;
    --region | -r) region="$2"; shift 2 ;;
    --region=*) region="${1#*=}"; shift ;;
    --yes | -y) confirmed=1; shift ;;
    *) passthrough+=("$1"); shift ;;
  esac
done
command -v aws >/dev/null || { echo "remove-aws: the AWS CLI v2 is required" >&2; exit 1; }
region="${region:-$(aws configure get region 2>/dev/null || true)}"
region="${region:-us-east-1}"
stack="dingtalk-channel-$stage"

if [ -z "$confirmed" ]; then
  [ -t 0 ] || { echo "remove-aws: not a terminal; pass --yes to delete $stack" >&2; exit 1; }
  read -r -p "Delete stack $stack in $region (the state table is kept)? Type the stage name to confirm: " answer
  [ "$answer" = "$stage" ] || { echo "Not confirmed; nothing deleted."; exit 1; }
fi

export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off AWS_REGION="$region"
bucket=$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[?OutputKey=='RelayBundleBucketName'].OutputValue | [0]" --output text 2>/dev/null || true)
if [ -n "$bucket" ] && [ "$bucket" != "None" ]; then
  # CloudFormation cannot delete a bucket that still holds objects.
  aws s3 rm "s3://$bucket" --recursive --only-show-errors
fi
npx --no-install serverless remove --stage "$stage" --region "$region" ${passthrough[@]+"${passthrough[@]}"}
echo "Removed $stack. Kept: the state table dingtalk-channel-$stage-state and the config secret (dingtalk-channel/$stage unless you chose another)."
