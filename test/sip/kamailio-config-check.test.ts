import { execFile } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { NODE_ADDRESS_VARIABLE, SipSite, sipSiteFromTopology } from '../../runtime/sip';
import { loopbackNodeEnvironment, writeNodeFiles } from '../support/sip/kamailio-node';
import { SipTools, sipToolsOrSkip } from '../support/sip/sip-tools';

/** `kamailio -c` loads every module, parses the script and checks every function call against the loaded modules. */

const run = promisify(execFile);
const exampleTopology: unknown = JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8'));

function siteWith(mediaServerCount: number): SipSite {
  return {
    id: 'edge',
    mediaServers: Array.from({ length: mediaServerCount }, (_, index) => ({ id: `ms-${index + 1}`, address: `10.1.${128 + (index % 2) * 16}.${10 + Math.floor(index / 2)}`, port: 5060 })),
  };
}

const cases: [string, SipSite][] = [
  ['example topology, site west', sipSiteFromTopology(exampleTopology, 'west')],
  ['example topology, site frankfurt', sipSiteFromTopology(exampleTopology, 'frankfurt')],
  ['one media server', siteWith(1)],
  ['ten media servers', siteWith(10)],
];

const tools: SipTools | undefined = sipToolsOrSkip();
const describeWithTools = tools ? describe : describe.skip;

describeWithTools('kamailio -c accepts every generated configuration', () => {
  const check = (configFile: string, env: Record<string, string>) => run(tools!.kamailio, ['-c', '-f', configFile], { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 });

  it.each(cases)('%s', async (_, site) => {
    const { configFile } = writeNodeFiles(site);
    const { stderr } = await check(configFile, loopbackNodeEnvironment());
    expect(stderr).toContain('config file ok, exiting...');
  });

  it('rejects a node started without its environment, naming the missing variable', async () => {
    const { configFile } = writeNodeFiles(siteWith(1));
    const { [NODE_ADDRESS_VARIABLE]: _, ...withoutNodeAddress } = loopbackNodeEnvironment();
    await expect(check(configFile, withoutNodeAddress)).rejects.toMatchObject({ stderr: expect.stringMatching(new RegExp(`env variable not defined \\[\\w+=${NODE_ADDRESS_VARIABLE}\\]`)) });
  });
});
