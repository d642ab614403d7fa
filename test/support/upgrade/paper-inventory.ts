import { parseFleetInventory } from '../../../runtime/upgrade/inventory/fleet-inventory';

/** One media server with groups blue and green whose endpoints nothing listens on: for steps that never reach them. */
export const PAPER_INVENTORY = parseFleetInventory({
  mediaServers: [
    {
      id: 'west/ms-1',
      esl: { host: '127.0.0.1' },
      eslPassword: { source: 'literal', value: 'ClueCon' },
      groups: ['blue', 'green'].map((id) => ({ id, deployment: { kind: 'local', runDir: '/nonexistent', instances: [{ eslPort: 1, healthPort: 2 }] } })),
    },
  ],
});
