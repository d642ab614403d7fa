/**
 * The fleet's image allow-list (`allowedImageRepositories` of the fleet inventory, written from the topology): an
 * upgrade to any other repository is refused where it is requested (the request, from Step Functions or the CLI)
 * and where it would be executed (the ECS deployer), before anything changes.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { runCli } from '../support/run-cli';
import { inventoryDeployers } from '../../runtime/upgrade/deployers/inventory-deployers';
import { parseFleetInventory, type FleetInventoryInput } from '../../runtime/upgrade/inventory/fleet-inventory';
import { fleetDataCenters } from '../../runtime/upgrade/inventory/topology-fleet';
import { UpgradeStepError } from '../../runtime/upgrade/flow/upgrade-steps';
import { parseUpgradeRequest } from '../../runtime/upgrade/request/upgrade-request';
import { FakeEcs } from '../support/upgrade/fake-ecs';

const OURS = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voiceplane/call-control';
const FOREIGN = 'registry.example.net/attacker/call-control';
const REFUSAL = `"${FOREIGN}" is not an allowed image repository (allowedImageRepositories: ${OURS})`;

const inventoryInput: FleetInventoryInput = {
  mediaServers: [
    {
      id: 'west/ms-1',
      esl: { host: '10.1.128.10' },
      eslPassword: { source: 'env', variable: 'VOICEPLANE_ESL_PASSWORD' },
      groups: [{ id: 'blue', deployment: { kind: 'ecs', region: 'us-east-1', cluster: 'dc-east', service: 'west-ms-1-blue' } }],
    },
  ],
  allowedImageRepositories: [OURS],
};
const request = { image: FOREIGN, version: '1.5.0', groups: ['blue'], mediaServers: ['west/ms-1'] };

function refusal(run: () => unknown): UpgradeStepError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UpgradeStepError);
    return error as UpgradeStepError;
  }
  throw new Error('accepted');
}

describe('the upgrade request against the fleet allow-list', () => {
  it('refuses a repository outside the list with one line naming the field', () => {
    const error = refusal(() => parseUpgradeRequest(request, [OURS]));
    expect(error.code).toBe('InvalidInput');
    expect(error.message).toBe(`upgrade request: image: ${REFUSAL}`);
  });

  it('takes a listed repository, and any repository of a fleet without a list (a hand-written local inventory)', () => {
    expect(parseUpgradeRequest({ ...request, image: OURS }, [OURS]).image).toBe(OURS);
    expect(parseUpgradeRequest(request).image).toBe(FOREIGN);
  });

  it('is an exact match: neither another repository of the same registry nor a longer path passes', () => {
    expect(refusal(() => parseUpgradeRequest({ ...request, image: `${OURS}-debug` }, [OURS])).message).toContain('is not an allowed image repository');
    expect(refusal(() => parseUpgradeRequest({ ...request, image: `${OURS}/x` }, [OURS])).message).toContain('is not an allowed image repository');
  });
});

describe('the fleet inventory', () => {
  it('refuses a malformed or repeated allow-list entry, naming it', () => {
    expect(() => parseFleetInventory({ ...inventoryInput, allowedImageRepositories: [`${OURS}:1.0`] })).toThrow('fleet inventory: allowedImageRepositories[0]:');
    expect(() => parseFleetInventory({ ...inventoryInput, allowedImageRepositories: [OURS, OURS] })).toThrow(`allowedImageRepositories[1]: "${OURS}" is listed twice`);
    expect(() => parseFleetInventory({ ...inventoryInput, allowedImageRepositories: [] })).toThrow('allowedImageRepositories: must name at least one image repository');
  });

  it("carries the topology's list, by default the repositories its groups run", () => {
    const group = (image: string) => ({ id: 'blue', image });
    const topology = (extra: object) => ({
      platform: 'acme',
      dataCenters: [{ id: 'east', region: 'us-east-1' }],
      sites: [
        {
          id: 'west',
          vpcCidr: '10.1.0.0/16',
          availabilityZones: ['us-west-2a'],
          mediaServers: [
            { id: 'ms-1', callControl: { dataCenter: 'east', groups: [group(OURS)] } },
            { id: 'ms-2', callControl: { dataCenter: 'east', groups: [group('public.ecr.aws/voiceplane/call-control')] } },
          ],
        },
      ],
      ...extra,
    });
    expect(fleetDataCenters(topology({}))[0].allowedImageRepositories).toEqual([OURS, 'public.ecr.aws/voiceplane/call-control']);
    expect(fleetDataCenters(topology({ allowedImageRepositories: [OURS] }))[0].allowedImageRepositories).toEqual([OURS]);
  });
});

describe('the ECS deployer of an allow-listed fleet', () => {
  const setUp = () => {
    const ecs = new FakeEcs('dc-east');
    ecs.addService('west-ms-1-blue', 'west-ms-1-blue', [{ name: 'call-control', image: `${OURS}:1.0.0`, essential: true }], 1, []);
    const deployer = inventoryDeployers({ inventory: parseFleetInventory(inventoryInput), env: {}, ecs: () => ecs })('west/ms-1', 'blue');
    return { ecs, deployer };
  };

  it('refuses to deploy a repository outside the list without calling ECS', async () => {
    const { ecs, deployer } = setUp();
    const attempt = deployer.start({ image: FOREIGN, version: '1.5.0' });
    await expect(attempt).rejects.toThrow(`ECS service west-ms-1-blue: image: ${REFUSAL}`);
    await expect(attempt).rejects.toMatchObject({ code: 'InvalidInput' });
    expect(ecs.sent).toEqual([]);
    expect(ecs.registered).toEqual([]);
  });

  it('deploys a listed repository', async () => {
    const { ecs, deployer } = setUp();
    await deployer.start({ image: OURS, version: '1.5.0' });
    expect(ecs.registered.map((definition) => definition.containerDefinitions?.[0].image)).toEqual([`${OURS}:1.5.0`]);
  });
});

describe('voiceplane upgrade with an allow-listed inventory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-allow-list-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses --image outside the list with exit 2 and one line, before opening any state', async () => {
    const inventory = path.join(dir, 'fleet.json');
    writeFileSync(inventory, JSON.stringify(inventoryInput));
    const stateDir = path.join(dir, 'state');
    const { code, stdout, stderr } = await runCli(['upgrade', '--inventory', inventory, '--media-server', 'west/ms-1', '--group', 'blue', '--image', FOREIGN, '--version', '1.5.0', '--state-dir', stateDir]);
    expect(code).toBe(2);
    expect(stdout).toEqual([]);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toContain(`--image: ${REFUSAL}`);
    expect(existsSync(stateDir) ? readdirSync(stateDir) : []).toEqual([]);
  });
});
