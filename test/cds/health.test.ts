import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../runtime/dynamodb/tables';
import { CDS_TABLE } from '../support/cds/cds-cluster';
import { cdsRequest } from '../support/cds/cds-http';
import { startSingleNode, type SingleNode } from '../support/cds/single-node';
import { waitFor } from '../support/wait-for';

let site: SingleNode;

beforeAll(async () => {
  site = await startSingleNode('west', {}, {}, { tableCheckCacheMs: 50 });
});
afterAll(() => site.stop());

const health = () => cdsRequest(site.node.port, 'GET', '/health');

describe('/health', () => {
  it('answers 503 while the node cannot reach its table, and 200 again once it can', async () => {
    expect(await health()).toMatchObject({ status: 200, body: { site: 'west', status: 'ok' } });

    await site.dynamo.client.send(new DeleteTableCommand({ TableName: CDS_TABLE }));
    await waitFor(async () => (await health()).status === 503, { message: '/health to report the lost table' });
    expect(await health()).toMatchObject({ status: 503, body: { site: 'west', status: 'table-unreachable', error: expect.any(String) } });

    await ensureTable(site.dynamo.client, CDS_TABLE);
    await waitFor(async () => (await health()).status === 200, { message: '/health to recover' });
  });
});
