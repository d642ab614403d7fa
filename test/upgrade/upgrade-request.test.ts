import { parseUpgradeRequest } from '../../runtime/upgrade/request/upgrade-request';
import { parseGroupUpgradeTarget } from '../../runtime/upgrade/request/group-upgrade-target';
import { UpgradeStepError } from '../../runtime/upgrade/flow/upgrade-steps';

const valid = {
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/call-control',
  version: '1.5.0',
  groups: ['blue', 'green'],
  mediaServers: ['west/ms-1'],
};

function problem(input: unknown): string {
  try {
    parseUpgradeRequest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(UpgradeStepError);
    expect((error as UpgradeStepError).code).toBe('InvalidInput');
    return (error as Error).message;
  }
  throw new Error('the request was accepted');
}

describe('upgrade request', () => {
  it('fills in the defaults', () => {
    expect(parseUpgradeRequest(valid)).toEqual({ ...valid, maxDrainSeconds: 900, onDrainTimeout: 'wait', concurrency: 5 });
    expect(parseUpgradeRequest({ ...valid, mediaServers: 'all', upgradeId: 'nightly-42' })).toMatchObject({ mediaServers: 'all', upgradeId: 'nightly-42' });
    expect(parseUpgradeRequest({ ...valid, image: 'localhost:5000/team/call-control' }).image).toBe('localhost:5000/team/call-control');
  });

  it.each([
    ['image with a tag', { image: 'repo/call-control:1.5.0' }, 'image: "repo/call-control:1.5.0" must not include a tag (":1.5.0"); give the tag as version'],
    ['image with a digest', { image: 'repo/cc@sha256:abc' }, 'image: "repo/cc@sha256:abc" must not include a digest'],
    ['empty image', { image: '' }, 'image: must not be empty'],
    ['uppercase image', { image: 'Repo/CC' }, 'image: "Repo/CC" path components must be lowercase'],
    ['missing image', { image: undefined }, 'image: must be text'],
    ['version with a space', { version: '1.5 beta' }, 'version: "1.5 beta" must be 1-128 letters, digits'],
    ['numeric version', { version: 15 }, 'version: must be text'],
    ['no groups', { groups: [] }, 'groups: must name at least one group'],
    ['bad group id', { groups: ['Blue'] }, "groups[0]: 'Blue' must be lowercase letters"],
    ['repeated group', { groups: ['blue', 'blue'] }, 'groups[1]: "blue" is listed twice'],
    ['media servers neither all nor a list', { mediaServers: 'some' }, 'mediaServers: must be "all" or a list of media server ids'],
    ['bad media server id', { mediaServers: ['ms-1'] }, 'mediaServers[0]: "ms-1" is not SITE/MEDIA-SERVER'],
    ['repeated media server', { mediaServers: ['west/ms-1', 'west/ms-1'] }, 'mediaServers[1]: "west/ms-1" is listed twice'],
    ['zero drain seconds', { maxDrainSeconds: 0 }, 'maxDrainSeconds: must be a whole number of seconds in 1..86400 (got 0)'],
    ['fractional drain seconds', { maxDrainSeconds: 1.5 }, 'maxDrainSeconds: must be a whole number of seconds in 1..86400 (got 1.5)'],
    ['drain seconds as text', { maxDrainSeconds: '900' }, 'maxDrainSeconds: must be a whole number of seconds in 1..86400 (got "900")'],
    ['unknown policy', { onDrainTimeout: 'kill' }, 'onDrainTimeout: must be wait, force or abort (got "kill")'],
    ['zero concurrency', { concurrency: 0 }, 'concurrency: must be a whole number of media servers in 1..1000 (got 0)'],
    ['concurrency above the Lambda concurrency it may take', { concurrency: 1001 }, 'concurrency: must be a whole number of media servers in 1..1000 (got 1001)'],
    ['bad upgrade id', { upgradeId: 'a b' }, 'upgradeId: "a b" must be 1-80 letters'],
    ['misspelt field', { maxDrainSecond: 10 }, 'unknown field(s) "maxDrainSecond"'],
  ])('rejects %s with one line naming the field', (_, change, expected) => {
    const message = problem({ ...valid, ...change });
    expect(message).toContain(expected);
    expect(message.startsWith('upgrade request: ')).toBe(true);
    expect(message).not.toContain('\n');
  });

  it('names every bad field at once', () => {
    const message = problem({ ...valid, version: '', concurrency: -1, onDrainTimeout: 'x' });
    expect(message).toMatch(/^upgrade request: version: .*; onDrainTimeout: .*; concurrency: /);
  });

  it('rejects what is not an object', () => {
    expect(problem('upgrade everything')).toBe('upgrade request: must be an object');
    expect(problem(null)).toBe('upgrade request: must be an object');
  });
});

describe('group upgrade target (step input)', () => {
  const target = { upgradeId: 'u-1', mediaServerId: 'west/ms-1', groupId: 'blue', image: 'repo/cc', version: '2.0.0', maxDrainSeconds: 60, onDrainTimeout: 'force' };

  it('accepts a complete target and rejects missing or extra fields', () => {
    expect(parseGroupUpgradeTarget(target)).toEqual(target);
    expect(() => parseGroupUpgradeTarget({ ...target, onDrainTimeout: undefined })).toThrow('group upgrade target: onDrainTimeout: must be wait, force or abort');
    expect(() => parseGroupUpgradeTarget({ ...target, extra: 1 })).toThrow('group upgrade target: unknown field(s) "extra"');
  });
});
