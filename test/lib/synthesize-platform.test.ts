import { mkdtempSync, readFileSync, readdirSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { Topology, parseTopology } from '../../lib';
import { generateTopology } from '../../stacks/generate-topology';
import { buildPlatform, synthesizePlatform } from '../../stacks/platform';
import { DataCenterStack } from '../../stacks/data-center-stack';
import { SiteStack } from '../../stacks/site-stack';
import { selectStacks } from '../../stacks/stack-selection';
import { registeredTokenCount } from '../../stacks/token-registry';

/** Every file below `dir` (relative path -> content). */
function filesBelow(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name))
      .sort()
      .map((file) => [path.relative(dir, file), readFileSync(file)]),
  );
}

function freshApp(): App {
  return new App({ outdir: mkdtempSync(path.join(tmpdir(), 'voiceplane-platform-')) });
}

function expectSameFiles(streamed: string, whole: string): void {
  const expected = filesBelow(whole);
  const actual = filesBelow(streamed);
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [file, content] of expected) expect({ file, content: actual.get(file)?.toString('base64') }).toEqual({ file, content: content.toString('base64') });
}

const example = parseTopology(JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8')));
// Two data centers serving four sites: every site depends on data centers and on each site before it.
const generated = parseTopology(generateTopology({ sites: 4, mediaServersPerSite: 2 }));

describe('synthesizePlatform (what the app runs)', () => {
  it.each<[string, Topology]>([
    ['the example topology', example],
    ['a generated topology of 2 data centers and 4 sites', generated],
  ])('writes %s byte for byte as buildPlatform then app.synth() do: stacks, assets and manifest', (_label, topology) => {
    const whole = freshApp();
    buildPlatform(whole, topology, 'aws');
    whole.synth();
    const streamed = freshApp();
    synthesizePlatform(streamed, topology, 'aws');
    expectSameFiles(streamed.outdir, whole.outdir);
  });

  it('writes a selection of stacks as buildPlatform then app.synth() do, dependencies only on stacks built', () => {
    const stacks = selectStacks(generated, 'bench-dc-dc-1,bench-site-site-1,bench-site-site-3');
    const whole = freshApp();
    buildPlatform(whole, generated, 'aws', generated.stateBackend, stacks);
    whole.synth();
    const streamed = freshApp();
    synthesizePlatform(streamed, generated, 'aws', generated.stateBackend, stacks);
    expectSameFiles(streamed.outdir, whole.outdir);
    const manifest = JSON.parse(readFileSync(path.join(streamed.outdir, 'manifest.json'), 'utf8'));
    expect(manifest.stacks['bench-site-site-3'].dependencies).toEqual(['bench-dc-dc-1', 'bench-site-site-1']);
  });

  it('keeps no stack\'s constructs once the stack is written', () => {
    const app = freshApp();
    synthesizePlatform(app, generated, 'aws');
    expect(app.node.children.map((stack) => [stack.node.id, stack.node.children.length])).toEqual(
      ['bench-dc-dc-0', 'bench-dc-dc-1', 'bench-site-site-0', 'bench-site-site-1', 'bench-site-site-2', 'bench-site-site-3'].map((name) => [name, 0]),
    );
    const [dataCenterStack, , siteStack] = app.node.children as [DataCenterStack, DataCenterStack, SiteStack];
    expect(() => dataCenterStack.dataCenter).toThrow('stack bench-dc-dc-0: its constructs were released after it was synthesized');
    expect(() => siteStack.site).toThrow('stack bench-site-site-0: its constructs were released after it was synthesized');
  });

  it('keeps none of the tokens the stacks registered (each holds its stack and constructs) once they are written', () => {
    const before = registeredTokenCount();
    buildPlatform(freshApp(), example, 'aws');
    const built = registeredTokenCount();
    expect(built).toBeGreaterThan(before);
    synthesizePlatform(freshApp(), generated, 'aws');
    expect(registeredTokenCount()).toBe(built);
  });
});
