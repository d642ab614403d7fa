import { copyFileSync, mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { dataCenterStackName, parseTopology, siteStackName } from '../../lib';
import { describeWithTerraform, terraform } from '../support/terraform';
import { synthPlatform } from '../support/synth-platform';


/** Backend settings that send the S3 backend's calls to a closed loopback port instead of AWS. */
const LOOPBACK_S3_ENDPOINT = path.join(__dirname, '../../terraform/loopback-s3.tfbackend');

const topology = parseTopology(JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8')));
const stackNames = [
  ...topology.dataCenters.map((dc) => dataCenterStackName(topology.platform, dc.id)),
  ...topology.sites.map((site) => siteStackName(topology.platform, site.id)),
];

describeWithTerraform('every stack of the example topology plans offline with the real terraform and AWS provider', () => {
  let stackDirs: Record<string, string> = {};
  let deployableStackDirs: Record<string, string> = {};

  beforeAll(() => {
    stackDirs = synthPlatform(topology, 'offline').stackDirs;
    deployableStackDirs = synthPlatform(topology, 'aws').stackDirs;
  });

  it('synthesizes one stack per data center and per site', () => {
    expect(Object.keys(stackDirs).sort()).toEqual([...stackNames].sort());
  });

  it.each(stackNames)('%s: terraform init, validate and plan -refresh=false succeed', async (stackName) => {
    const dir = stackDirs[stackName];
    await terraform(dir, ['init', '-input=false', '-no-color']);
    const validation = await terraform(dir, ['validate', '-no-color']);
    expect(validation.stdout).toContain('Success! The configuration is valid.\n');
    const plan = await terraform(dir, ['plan', '-refresh=false', '-input=false', '-lock=false', '-no-color']);
    expect(plan.stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy\./);
    // Dashboards and alarms (see test/lib/monitoring.test.ts) are in the plan too.
    const monitoring = ['aws_sns_topic', 'aws_cloudwatch_dashboard', 'aws_cloudwatch_metric_alarm', ...(stackName.includes('-site-') ? ['aws_cloudwatch_log_metric_filter'] : [])];
    for (const type of monitoring) expect(plan.stdout).toMatch(new RegExp(`# ${type}\\.\\S*Monitoring\\S* will be created`));
  });

  it.each(stackNames)('%s: the deployable profile (S3 state, remote state between stacks) validates', async (stackName) => {
    const dir = deployableStackDirs[stackName];
    // The S3 backend cannot be reached offline: validate the configuration without it.
    await terraform(dir, ['init', '-backend=false', '-input=false', '-no-color']);
    const validation = await terraform(dir, ['validate', '-no-color']);
    expect(validation.stdout).toContain('Success! The configuration is valid.\n');
  });

  it.each(stackNames)('%s: terraform accepts the S3 backend block and goes to the state bucket', async (stackName) => {
    // A fresh copy: `init -backend=false` above shares the directory. The endpoint is a closed loopback port, so
    // init fails exactly when it first calls S3, after terraform has type-checked and configured the backend.
    const dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-backend-'));
    copyFileSync(path.join(deployableStackDirs[stackName], 'cdk.tf.json'), path.join(dir, 'cdk.tf.json'));
    const attempt = terraform(dir, ['init', '-input=false', '-no-color', `-backend-config=${LOOPBACK_S3_ENDPOINT}`]);
    await expect(attempt).rejects.toThrow(/Unable to list objects in S3 bucket "acme-voiceplane-tfstate"[^\n]*connection refused/);
  });
});
