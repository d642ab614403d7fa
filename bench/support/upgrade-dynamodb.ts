/** The upgrade benchmark's DynamoDB: dynalite in a process of its own, so the orchestrator's CPU is measured alone. */
import { startEmbeddedDynamoDb } from '../../runtime/dynamodb/embedded-dynamodb';
import { serveIpc } from './upgrade-ipc';

let close: (() => Promise<void>) | undefined;

serveIpc({
  start: async () => {
    const dynamo = await startEmbeddedDynamoDb();
    close = dynamo.close;
    return dynamo.endpoint;
  },
  stop: async () => {
    await close?.();
    setImmediate(() => process.exit(0));
  },
});
