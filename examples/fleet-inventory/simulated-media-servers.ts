import { readFileSync } from 'fs';
import { z } from 'zod';
import { parseFleetInventory, type FleetInventory } from 'voiceplane/fleet-inventory';
import { FreeSwitchSimulator } from 'voiceplane/freeswitch-simulator';
import { MediaServerClient } from 'voiceplane/media-server';

/**
 * One simulated FreeSWITCH per media server of a local fleet inventory, on the event socket the inventory names, each
 * with a route table of the media server's groups in inventory order (every group active, its instances' ESL ports
 * as endpoints): what `voiceplane upgrade --plan --inventory` reads.
 */
export async function startSimulatedMediaServers(inventory: FleetInventory, password: string): Promise<{ stop(): Promise<void> }> {
  const simulators: FreeSwitchSimulator[] = [];
  const stop = async (): Promise<void> => void (await Promise.all(simulators.map((simulator) => simulator.stop())));
  try {
    for (const mediaServer of inventory.mediaServers) {
      const simulator = new FreeSwitchSimulator({ host: mediaServer.esl.host, port: mediaServer.esl.port, password });
      simulators.push(simulator);
      await simulator.start();
      const client = await MediaServerClient.connect({ host: mediaServer.esl.host, port: mediaServer.esl.port, password });
      try {
        await client.setRoutes({
          groups: mediaServer.groups.map((group) => {
            if (group.deployment.kind !== 'local') throw new Error(`${mediaServer.id} group ${group.id}: only local deployments can be simulated`);
            const { host, instances } = group.deployment;
            return { id: group.id, state: 'active' as const, endpoints: instances.map((instance) => ({ host, port: instance.eslPort })) };
          }),
        });
      } finally {
        await client.close();
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

const commandLine = z.tuple([z.string().min(1, 'usage: simulated-media-servers.ts INVENTORY.json')]);
const environment = z.object({ FLEET_ESL_PASSWORD: z.string().min(1, 'FLEET_ESL_PASSWORD: must be set (the event socket password)') });

// `npx ts-node simulated-media-servers.ts fleet.json`: runs until Ctrl-C.
if (require.main === module) {
  const run = async (): Promise<void> => {
    const [file] = commandLine.parse(process.argv.slice(2));
    const { FLEET_ESL_PASSWORD } = environment.parse(process.env);
    const inventory = parseFleetInventory(JSON.parse(readFileSync(file, 'utf8')));
    const fleet = await startSimulatedMediaServers(inventory, FLEET_ESL_PASSWORD);
    inventory.mediaServers.forEach((mediaServer) => console.log(`${mediaServer.id}: event socket ${mediaServer.esl.host}:${mediaServer.esl.port}`));
    process.once('SIGINT', () => void fleet.stop());
  };
  run().catch((error: Error) => {
    const message = error instanceof z.ZodError ? error.issues.map((issue) => issue.message).join('; ') : error.message;
    process.stderr.write(`simulated-media-servers: ${message}\n`);
    process.exit(1);
  });
}
