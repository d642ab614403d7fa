import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { runCli } from '../support/run-cli';
import { parseDiagramTopology } from '../../runtime/topology-diagram/diagram-topology';
import { renderTopologyDiagram } from '../../runtime/topology-diagram/topology-diagram';

const EXAMPLE = JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8'));

interface Drawn {
  readonly serves: Array<{ from: string; to: string }>;
  readonly peerings: Array<{ from: string; to: string }>;
  readonly texts: string[];
}

/** The links and the text of a diagram, read back from its SVG. */
function readDiagram(svg: string): Drawn {
  expect(XMLValidator.validate(svg)).toBe(true);
  const document = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', htmlEntities: true, isArray: (_name, _path, _leaf, isAttribute) => !isAttribute }).parse(svg);
  const root = document.svg[0];
  const ends = (element: Record<string, string>) => ({ from: element['data-from'], to: element['data-to'] });
  const textOf = (element: unknown): string => (typeof element === 'string' || typeof element === 'number' ? String(element) : String((element as Record<string, unknown>)['#text'] ?? ''));
  return {
    serves: (root.line ?? []).filter((line: Record<string, string>) => line.class === 'serves').map(ends),
    peerings: (root.path ?? []).filter((element: Record<string, string>) => element.class === 'cds-peering').map(ends),
    texts: (root.text ?? []).map(textOf),
  };
}

function site(id: string, dataCenters: readonly string[]) {
  return {
    id,
    region: 'us-west-2',
    vpcCidr: '10.1.0.0/16',
    sipCluster: { size: 2 },
    mediaServers: dataCenters.map((dataCenter, index) => ({ id: `ms-${index + 1}`, callControl: { dataCenter, groups: [{ id: 'blue' }, { id: 'green' }] } })),
  };
}

describe('topology diagram', () => {
  it('draws the example platform: its data center serving both sites, the sites peered, regions and VPCs named', () => {
    const drawn = readDiagram(renderTopologyDiagram(parseDiagramTopology(EXAMPLE)));
    expect(drawn.serves).toEqual([
      { from: 'east', to: 'west' },
      { from: 'east', to: 'frankfurt' },
    ]);
    expect(drawn.peerings).toEqual([{ from: 'west', to: 'frankfurt' }]);
    expect(drawn.texts).toEqual(
      expect.arrayContaining(['data center east', 'us-east-1 · 10.100.0.0/16', 'site frankfurt', 'eu-central-1 · 10.2.0.0/16', 'ms-2 → east: blue, green', '2 media servers']),
    );
  });

  it('links each data center only to the sites whose media servers it serves, and peers every pair of sites', () => {
    const topology = {
      platform: 'big',
      dataCenters: ['dc-a', 'dc-b', 'dc-c'].map((id) => ({ id, region: 'us-east-1', vpcCidr: '10.100.0.0/16' })),
      sites: [site('s1', ['dc-a']), site('s2', ['dc-a', 'dc-b']), site('s3', ['dc-b']), site('s4', ['dc-b', 'dc-b'])],
    };
    const drawn = readDiagram(renderTopologyDiagram(parseDiagramTopology(topology)));
    expect(drawn.serves).toEqual([
      { from: 'dc-a', to: 's1' },
      { from: 'dc-a', to: 's2' },
      { from: 'dc-b', to: 's2' },
      { from: 'dc-b', to: 's3' },
      { from: 'dc-b', to: 's4' },
    ]);
    expect(drawn.peerings).toHaveLength(6);
    expect(drawn.texts).toContain('call control: none');
  });

  it('keeps markup in names from breaking the picture', () => {
    const topology = { ...EXAMPLE, platform: 'a<b & "c"', sites: [{ ...EXAMPLE.sites[0], id: '<script>' }] };
    const drawn = readDiagram(renderTopologyDiagram(parseDiagramTopology(topology)));
    expect(drawn.texts).toContain('site <script>');
  });
});

describe('voiceplane topology diagram', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-diagram-'));

  const run = (args: readonly string[]) => runCli(['topology', ...args]);

  it('writes the embedded example topology as an SVG file and prints its path', async () => {
    const out = path.join(dir, 'nested', 'platform.svg');
    expect(await run(['diagram', '--out', out])).toEqual({ code: 0, stdout: [out], stderr: [] });
    expect(readDiagram(readFileSync(out, 'utf8')).serves).toHaveLength(2);
  });

  it.each([
    [['diagram'], 2, 'voiceplane: --out: required (the SVG file to write)'],
    [['diagram', '--out', 'picture.png'], 2, 'voiceplane: --out: must name an .svg file'],
    [['diagrm', '--out', 'x.svg'], 2, "voiceplane: unknown command 'diagrm' (Did you mean diagram?)"],
    [['diagram', '--out', 'x.svg', '--topology', '/nonexistent.json'], 1, 'voiceplane: --topology: cannot read /nonexistent.json (ENOENT)'],
  ])('refuses %j with one line (exit %i)', async (args, code, message) => {
    expect(await run(args)).toEqual({ code, stdout: [], stderr: [message] });
  });

  it('names the field of a media server served by no data center', async () => {
    const file = path.join(dir, 'bad.json');
    const bad = { ...EXAMPLE, sites: [{ ...EXAMPLE.sites[0], mediaServers: [{ id: 'ms-1', callControl: { dataCenter: 'nowhere', groups: [{ id: 'blue' }] } }] }] };
    writeFileSync(file, JSON.stringify(bad));
    expect(await run(['diagram', '--topology', file, '--out', path.join(dir, 'bad.svg')])).toEqual({
      code: 1,
      stdout: [],
      stderr: [`voiceplane: ${file}: topology: sites[0].mediaServers[0].callControl.dataCenter: no data center "nowhere"`],
    });
  });
});
