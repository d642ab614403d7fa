import { refusingPort } from '../support/route-tables';
import { testPrivateKeyPem } from '../support/cds/test-identities';
import { killEntryProcesses, spawnEntry } from '../support/cli-process';

// The AWS SDK warns on stderr of every process on Node < 22 that its next versions need Node 22. An operator
// running the CLI on Node 20 gets our pinned SDK, so the warning is noise in front of our one-line errors.

afterEach(() => killEntryProcesses());

const environmentWithoutSuppression = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'));

describe('the CLI on any supported Node version', () => {
  it('prints only its own one-line error when an AWS SDK client fails, with no SDK version warning', async () => {
    const endpoint = `http://127.0.0.1:${await refusingPort()}`;
    const node = spawnEntry('runtime/cli.ts', ['cds', 'serve', '--site', 'west', '--listen', '127.0.0.1:0', '--dynamodb-endpoint', endpoint], { VOICEPLANE_CDS_PEER_KEY: testPrivateKeyPem('west'), VOICEPLANE_CDS_LOCAL_TOKEN: 'a-local-api-token-long-enough-for-the-node' }, environmentWithoutSuppression);
    expect(await node.exitWithin(20_000)).toBe(1);
    expect(node.stderr()).not.toMatch(/NodeVersionSupportWarning|require node/);
    expect(node.stderr().trimEnd().split('\n')).toHaveLength(1);
  });
});
