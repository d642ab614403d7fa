import { startLocalFleet, type LocalFleet } from './local-fleet-fixture';
import { startStateTable, type StateTable } from './state-table-fixture';

export interface FleetAndTable {
  readonly fleet: LocalFleet;
  readonly table: StateTable;
}

/** A local fleet and an upgrade state table for the tests of one file: started before them, stopped after them. */
export function useFleetAndTable(): FleetAndTable {
  const shared: { fleet?: LocalFleet; table?: StateTable } = {};
  beforeAll(async () => {
    [shared.fleet, shared.table] = await Promise.all([startLocalFleet(), startStateTable()]);
  });
  afterAll(async () => {
    await Promise.all([shared.fleet?.stop(), shared.table?.close()]);
  });
  return shared as FleetAndTable;
}
