import { readFileSync } from 'fs';
import * as path from 'path';
import { dataCenterStackName, parseTopology, siteStackName } from '../../lib';
import { terraform, terraformAvailable } from '../support/terraform';
import { synthPlatform } from '../support/synth-platform';

/** CI sets this so a machine without terraform fails instead of skipping the plans. */
const TERRAFORM_REQUIRED = process.env.VOICEPLANE_REQUIRE_TERRAFORM === '1';

const topology = parseTopology(JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8')));
const stackNames = [
  ...topology.dataCenters.map((dc) => dataCenterStackName(topology.platform, dc.id)),
  ...topology.sites.map((site) => siteStackName(topology.platform, site.id)),
];

describe('every stack of the example topology plans offline with the real terraform and AWS provider', () => {
  let available = false;
  let stackDirs: Record<string, string> = {};
  let deployableStackDirs: Record<string, string> = {};

  beforeAll(async () => {
    available = await terraformAvailable();
    if (!available) {
      const message = 'TERRAFORM NOT FOUND ON PATH: the offline init/validate/plan tests are SKIPPED';
      if (TERRAFORM_REQUIRED) throw new Error(`${message} (VOICEPLANE_REQUIRE_TERRAFORM=1 makes this a failure)`);
      console.warn(`\n${'!'.repeat(78)}\n${message}\n${'!'.repeat(78)}\n`);
      return;
    }
    stackDirs = synthPlatform(topology, 'offline').stackDirs;
    deployableStackDirs = synthPlatform(topology, 'aws').stackDirs;
  });

  it('synthesizes one stack per data center and per site', () => {
    if (!available) return;
    expect(Object.keys(stackDirs).sort()).toEqual([...stackNames].sort());
  });

  it.each(stackNames)('%s: terraform init, validate and plan -refresh=false succeed', async (stackName) => {
    if (!available) return;
    const dir = stackDirs[stackName];
    await terraform(dir, ['init', '-input=false', '-no-color']);
    const validation = await terraform(dir, ['validate', '-no-color']);
    expect(validation.stdout).toContain('Success! The configuration is valid.\n');
    const plan = await terraform(dir, ['plan', '-refresh=false', '-input=false', '-lock=false', '-no-color']);
    expect(plan.stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy\./);
  });

  it.each(stackNames)('%s: the deployable profile (remote state between stacks) validates', async (stackName) => {
    if (!available) return;
    const dir = deployableStackDirs[stackName];
    await terraform(dir, ['init', '-input=false', '-no-color']);
    const validation = await terraform(dir, ['validate', '-no-color']);
    expect(validation.stdout).toContain('Success! The configuration is valid.\n');
  });
});
