#!/usr/bin/env bash
# `npm run remove:aws -- [--stage dev] [--region us-east-1] [--yes]`
#
# Deletes the whole stack: functions, relay service, cluster, image repository (with its
# images), VPC, the state table (pairings, allowlist, sessions are lost) and the failure queue.
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
  read -r -p "Delete stack $stack in $region, including its state table? Type the stage name to confirm: " answer
  [ "$answer" = "$stage" ] || { echo "Not confirmed; nothing deleted."; exit 1; }
fi

export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off AWS_REGION="$region"
npx --no-install serverless remove --stage "$stage" --region "$region" ${passthrough[@]+"${passthrough[@]}"}
echo "Removed $stack. The config secret (dingtalk-channel/$stage unless you chose another) was kept."
