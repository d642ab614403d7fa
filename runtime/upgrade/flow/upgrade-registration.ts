import { isDeepStrictEqual } from 'util';
import type { UpgradeRequest } from '../request/upgrade-request';
import type { UpgradeStateStore } from '../state/upgrade-state-store';
import { UpgradeStepError } from './upgrade-steps';

/**
 * Stores the upgrade's request under its id, or checks that a stored one is the same request: a reused
 * id resumes that upgrade, so it must not silently carry on with other options.
 */
export async function registerUpgrade(store: UpgradeStateStore, upgradeId: string, request: UpgradeRequest): Promise<void> {
  const requestJson = JSON.stringify({ ...request, upgradeId });
  const stored = await store.ensureUpgrade(upgradeId, requestJson);
  if (!isDeepStrictEqual(JSON.parse(stored.request), JSON.parse(requestJson))) {
    throw new UpgradeStepError('InvalidInput', `upgrade ${upgradeId} already exists with another request (${stored.request}); resume it with the same options or use a new id`);
  }
}
