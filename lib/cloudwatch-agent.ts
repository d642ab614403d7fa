import type { PolicyStatement } from './iam-policy';
import { IMDS_ENDPOINT_LINE } from './instance-metadata-endpoint';

/**
 * Host log shipping with the Amazon CloudWatch agent: its configuration (pure) and the boot step that installs and
 * starts it. The agent is not in Debian's archive; it comes from the instance region's official package bucket over
 * HTTPS unless the AMI already has it.
 */

/** Where cloud-init writes the agent's configuration; the boot step hands it to the agent. */
export const CLOUDWATCH_AGENT_CONFIG_FILE = '/etc/voiceplane/cloudwatch-agent.json';
const AGENT_CTL = '/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl';
/** Shipped by every host: the boot's own output, what an operator reads first when a boot failed. */
export const CLOUD_INIT_OUTPUT_LOG = '/var/log/cloud-init-output.log';

export interface ShippedLogFile {
  /** Absolute path of the file on the host. */
  readonly filePath: string;
  /** CloudWatch Logs group receiving it (created by Terraform: the instance role may not create groups). */
  readonly logGroupName: string;
}

/** The agent's JSON configuration: each file into its group, one stream per instance and file. */
export function renderCloudWatchAgentConfig(files: readonly ShippedLogFile[]): string {
  if (files.length === 0) throw new Error('files must name at least one log file to ship');
  for (const file of files) {
    if (!file.filePath.startsWith('/')) throw new Error(`filePath must be absolute, got "${file.filePath}"`);
  }
  const config = {
    agent: { run_as_user: 'root' },
    logs: {
      logs_collected: {
        files: {
          collect_list: files.map((file) => ({
            file_path: file.filePath,
            log_group_name: file.logGroupName,
            log_stream_name: `{instance_id}${file.filePath}`,
          })),
        },
      },
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * The boot step that installs the agent (unless present) from the package bucket of the instance's region (read from
 * the instance metadata) and starts it with {@link CLOUDWATCH_AGENT_CONFIG_FILE}. It never fails the boot: a host
 * serves calls without log shipping, so a failure is reported on stderr (cloud-init's output, kept on the host) and
 * the step exits 0. `before` (shell lines) runs first, under the same rule.
 */
export function cloudWatchAgentSetupScript(before = ''): string {
  return `#!/bin/bash
# Ships this host's logs to CloudWatch Logs. Never fails the boot: without it the host still serves calls.
set -uo pipefail
warn() { echo "voiceplane: log shipping: $*; logs stay on this host" >&2; }
${before}if [ ! -x ${AGENT_CTL} ]; then
  ${IMDS_ENDPOINT_LINE}
  token=$(curl -sf -X PUT "$imds/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  region=$(curl -sf -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/placement/region")
  [[ "$region" =~ ^[a-z]{2}(-gov)?-[a-z]+-[0-9]$ ]] || { warn 'no region in the instance metadata'; exit 0; }
  bucket="https://amazoncloudwatch-agent-$region.s3.$region.amazonaws.com"
  package=$(mktemp --suffix=.deb)
  if ! curl -fsS --retry 3 --connect-timeout 10 --max-time 300 -o "$package" "$bucket/debian/$(dpkg --print-architecture)/latest/amazon-cloudwatch-agent.deb"; then
    rm -f "$package"; warn "cannot download the CloudWatch agent from $bucket"; exit 0
  fi
  if ! dpkg -i "$package"; then
    rm -f "$package"; warn 'cannot install the CloudWatch agent'; exit 0
  fi
  rm -f "$package"
fi
${AGENT_CTL} -a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT_CONFIG_FILE} || warn 'the CloudWatch agent did not start'
exit 0
`;
}

/**
 * A runcmd entry running `step`, then `logShipping` whatever `step` did, and exiting with `step`'s status: log shipping
 * must not delay the host's own boot, must still ship a failed boot's output, and must not hide that failure.
 */
export function afterStep(step: string, logShipping: string): string {
  return `[sh, -c, '${step}; status=$?; ${logShipping}; exit $status']`;
}

/** What the agent needs of an instance role: new streams and events in the given groups only (no group creation). */
export function logShippingStatement(logGroupArns: readonly string[]): PolicyStatement {
  return { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: logGroupArns.map((arn) => `${arn}:*`) };
}
