import { parseFleetInventory } from '../../runtime/upgrade/inventory/fleet-inventory';

const ecsGroup = (id: string) => ({ id, deployment: { kind: 'ecs', region: 'us-east-1', cluster: 'dc-east', service: `west-ms-1-${id}` } });
const mediaServer = {
  id: 'west/ms-1',
  esl: { host: '10.1.0.10' },
  eslPassword: { source: 'secrets-manager', secretId: 'voiceplane/west/esl', region: 'us-west-2' },
  groups: [ecsGroup('blue'), ecsGroup('green')],
};

function problem(input: unknown): string {
  expect(() => parseFleetInventory(input)).toThrow();
  try {
    parseFleetInventory(input);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('fleet inventory', () => {
  it('fills in the ESL and ECS defaults', () => {
    const inventory = parseFleetInventory({ mediaServers: [mediaServer] });
    expect(inventory.mediaServers[0].esl).toEqual({ host: '10.1.0.10', port: 8021 });
    expect(inventory.mediaServers[0].groups[0].deployment).toEqual({ ...ecsGroup('blue').deployment, containerName: 'call-control', eslPort: 8084, healthPort: 8080 });
  });

  it('accepts local deployments and env or literal passwords', () => {
    const local = {
      id: 'local/ms-1',
      esl: { host: '127.0.0.1', port: 8021 },
      eslPassword: { source: 'env', variable: 'ESL_PASSWORD' },
      groups: [
        { id: 'blue', deployment: { kind: 'local', runDir: '/tmp/run', instances: [{ eslPort: 9001, healthPort: 9002 }] } },
        { id: 'green', deployment: { kind: 'local', runDir: '/tmp/run', instances: [{ eslPort: 9003, healthPort: 9004 }] } },
      ],
    };
    expect(parseFleetInventory({ mediaServers: [local] }).mediaServers[0].groups[0].deployment).toEqual({
      kind: 'local',
      host: '127.0.0.1',
      runDir: '/tmp/run',
      instances: [{ eslPort: 9001, healthPort: 9002 }],
    });
    expect(() => parseFleetInventory({ mediaServers: [{ ...local, eslPassword: { source: 'literal', value: 'ClueCon' } }] })).not.toThrow();
  });

  it.each([
    ['no media servers', { mediaServers: [] }, 'mediaServers: must list at least one media server'],
    ['a duplicate media server', { mediaServers: [mediaServer, mediaServer] }, 'mediaServers[1].id: duplicate media server id "west/ms-1"'],
    ['a duplicate group', { mediaServers: [{ ...mediaServer, groups: [ecsGroup('blue'), ecsGroup('blue')] }] }, 'mediaServers[0].groups[1].id: duplicate group id "blue"'],
    [
      'an unknown deployment kind',
      { mediaServers: [{ ...mediaServer, groups: [{ id: 'blue', deployment: { kind: 'k8s' } }] }] },
      'mediaServers[0].groups[0].deployment.kind: must have kind "ecs" or "local"',
    ],
    [
      'a bad region',
      { mediaServers: [{ ...mediaServer, eslPassword: { source: 'secrets-manager', secretId: 's', region: 'west' } }] },
      'mediaServers[0].eslPassword.region: "west" is not an AWS region',
    ],
    [
      'an unknown password source',
      { mediaServers: [{ ...mediaServer, eslPassword: { source: 'vault' } }] },
      'mediaServers[0].eslPassword.source: must have source "literal", "env" or "secrets-manager"',
    ],
    ['a bad port', { mediaServers: [{ ...mediaServer, esl: { host: 'h', port: 70000 } }] }, 'mediaServers[0].esl.port: must be a port in 1..65535'],
    ['a misspelt field', { mediaServers: [{ ...mediaServer, group: [] }] }, 'mediaServers[0]: unknown field(s) "group"'],
  ])('rejects %s naming the field', (_, input, expected) => {
    const message = problem(input);
    expect(message).toContain(`fleet inventory: ${expected}`);
    expect(message).not.toContain('\n');
  });
});
