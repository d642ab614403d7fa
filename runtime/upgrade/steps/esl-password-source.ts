import { GetSecretValueCommand, type GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { Clock } from '../../shared/clock';
import type { EslPasswordSourceConfig, FleetInventory } from '../inventory/fleet-inventory';
import { inventoryMediaServer } from '../inventory/fleet-inventory';
import { UpgradeStepError } from '../flow/upgrade-steps';

/** Where the steps get a media server's ESL password. Implementations never log or report the value. */
export interface EslPasswordSource {
  password(mediaServerId: string): Promise<string>;
}

/** The Secrets Manager call made: `SecretsManagerClient` satisfies it. */
export interface SecretsApi {
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
}

export interface InventoryPasswordSourceOptions {
  readonly inventory: FleetInventory;
  /** For `env` sources: the orchestrator's environment, as its entry point read it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A Secrets Manager client for a region (created once per region). */
  readonly secrets: (region: string) => SecretsApi;
  readonly clock: Clock;
  /** How long a fetched secret is reused (default 5 minutes: rotation is picked up without a fetch per step). */
  readonly cacheMs?: number;
}

const jsonObject = z.record(z.string(), z.unknown());

/** Resolves passwords as the inventory says: literal, environment variable, or Secrets Manager (cached). */
export function inventoryPasswordSource(options: InventoryPasswordSourceOptions): EslPasswordSource {
  const cacheMs = options.cacheMs ?? 300_000;
  const clients = new Map<string, SecretsApi>();
  const cache = new Map<string, { fetchedAt: number; value: Promise<string> }>();

  const fromSecretsManager = (mediaServerId: string, source: Extract<EslPasswordSourceConfig, { source: 'secrets-manager' }>): Promise<string> => {
    const cacheKey = `${source.region}\n${source.secretId}\n${source.jsonKey ?? ''}`;
    const cached = cache.get(cacheKey);
    if (cached !== undefined && options.clock.now() - cached.fetchedAt < cacheMs) return cached.value;
    let client = clients.get(source.region);
    if (client === undefined) {
      client = options.secrets(source.region);
      clients.set(source.region, client);
    }
    const value = client.send(new GetSecretValueCommand({ SecretId: source.secretId })).then((reply) => secretValue(mediaServerId, source, reply.SecretString));
    cache.set(cacheKey, { fetchedAt: options.clock.now(), value });
    value.catch(() => cache.delete(cacheKey));
    return value;
  };

  return {
    async password(mediaServerId) {
      const source = inventoryMediaServer(options.inventory, mediaServerId).eslPassword;
      switch (source.source) {
        case 'literal':
          return source.value;
        case 'env': {
          const value = options.env[source.variable];
          if (value === undefined || value === '')
            throw new UpgradeStepError('InvalidInput', `ESL password of ${mediaServerId}: environment variable ${source.variable} is not set`);
          return value;
        }
        case 'secrets-manager':
          return fromSecretsManager(mediaServerId, source);
      }
    },
  };
}

function secretValue(mediaServerId: string, source: Extract<EslPasswordSourceConfig, { source: 'secrets-manager' }>, secret: string | undefined): string {
  const where = `ESL password of ${mediaServerId}: secret ${source.secretId}`;
  if (secret === undefined || secret === '') throw new UpgradeStepError('InvalidInput', `${where} has no string value`);
  if (source.jsonKey === undefined) return secret;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    throw new UpgradeStepError('InvalidInput', `${where} is not JSON, so it has no key ${source.jsonKey}`);
  }
  const object = jsonObject.safeParse(parsed);
  const value = object.success ? object.data[source.jsonKey] : undefined;
  if (typeof value !== 'string' || value === '') throw new UpgradeStepError('InvalidInput', `${where} has no non-empty string at key ${source.jsonKey}`);
  return value;
}
