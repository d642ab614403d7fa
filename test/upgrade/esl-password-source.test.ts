/**
 * Secrets Manager cannot run locally: the secret source is tested against a hand-written fake at the
 * SDK send() boundary. Literal and environment sources need no stand-in.
 */
import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { inventoryPasswordSource } from '../../runtime/upgrade/steps/esl-password-source';
import { parseFleetInventory } from '../../runtime/upgrade/inventory/fleet-inventory';

const group = (id: string) => ({ id, deployment: { kind: 'ecs', region: 'us-east-1', cluster: 'c', service: id } });
const inventory = parseFleetInventory({
  mediaServers: [
    { id: 'lab/ms-1', esl: { host: 'h' }, eslPassword: { source: 'literal', value: 'ClueCon' }, groups: [group('blue')] },
    { id: 'lab/ms-2', esl: { host: 'h' }, eslPassword: { source: 'env', variable: 'MS2_ESL_PASSWORD' }, groups: [group('blue')] },
    { id: 'west/ms-1', esl: { host: 'h' }, eslPassword: { source: 'secrets-manager', secretId: 'voiceplane/west', region: 'us-west-2' }, groups: [group('blue')] },
    {
      id: 'west/ms-2',
      esl: { host: 'h' },
      eslPassword: { source: 'secrets-manager', secretId: 'voiceplane/west-json', region: 'us-west-2', jsonKey: 'esl' },
      groups: [group('blue')],
    },
  ],
});

class FakeSecretsManager {
  readonly requests: string[] = [];
  constructor(private readonly secrets: Record<string, string>) {}
  async send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput> {
    const id = command.input.SecretId ?? '';
    this.requests.push(id);
    if (!(id in this.secrets)) throw Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' });
    return { $metadata: {}, SecretString: this.secrets[id] };
  }
}

describe('ESL password sources', () => {
  const clock = {
    ms: 0,
    now() {
      return this.ms;
    },
  };

  it('reads literal and environment passwords, naming a missing variable but never a value', async () => {
    const source = inventoryPasswordSource({ inventory, env: { MS2_ESL_PASSWORD: 's3cret' }, secrets: () => new FakeSecretsManager({}), clock });
    expect(await source.password('lab/ms-1')).toBe('ClueCon');
    expect(await source.password('lab/ms-2')).toBe('s3cret');
    const missing = inventoryPasswordSource({ inventory, env: {}, secrets: () => new FakeSecretsManager({}), clock });
    await expect(missing.password('lab/ms-2')).rejects.toThrow('ESL password of lab/ms-2: environment variable MS2_ESL_PASSWORD is not set');
  });

  it('fetches Secrets Manager secrets once per cache period, per region, whole or by JSON key', async () => {
    const fake = new FakeSecretsManager({ 'voiceplane/west': 'w3st', 'voiceplane/west-json': '{"esl":"js0n","other":"x"}' });
    const regions: string[] = [];
    const source = inventoryPasswordSource({ inventory, env: {}, secrets: (region) => (regions.push(region), fake), clock, cacheMs: 60_000 });
    expect(await source.password('west/ms-1')).toBe('w3st');
    expect(await source.password('west/ms-1')).toBe('w3st');
    expect(await source.password('west/ms-2')).toBe('js0n');
    expect(fake.requests).toEqual(['voiceplane/west', 'voiceplane/west-json']);
    expect(regions).toEqual(['us-west-2']);
    clock.ms += 60_000;
    await source.password('west/ms-1');
    expect(fake.requests).toEqual(['voiceplane/west', 'voiceplane/west-json', 'voiceplane/west']);
  });

  it('reports a secret without the key, or not JSON, without echoing its content', async () => {
    const source = inventoryPasswordSource({ inventory, env: {}, secrets: () => new FakeSecretsManager({ 'voiceplane/west-json': 'plain-secret-text' }), clock });
    const failure = source.password('west/ms-2');
    await expect(failure).rejects.toThrow('ESL password of west/ms-2: secret voiceplane/west-json is not JSON, so it has no key esl');
    await expect(failure).rejects.not.toThrow('plain-secret-text');
    const missing = inventoryPasswordSource({ inventory, env: {}, secrets: () => new FakeSecretsManager({}), clock });
    await expect(missing.password('west/ms-1')).rejects.toThrow("can't find the specified secret");
  });
});
