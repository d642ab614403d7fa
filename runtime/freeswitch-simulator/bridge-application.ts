import { Channel } from './channel';
import { DialplanApplication } from './dialplan-application';
import { isFsTrue } from './fs-true';
import { causeFromString } from './hangup-causes';

interface DialString {
  readonly variables: Map<string, string>;
  /** Targets tried in order (`|`); of simultaneous targets (`,`) the first one answers. */
  readonly targets: readonly string[];
}

function parseVariableList(text: string, into: Map<string, string>): void {
  for (const assignment of text.split(',')) {
    const equals = assignment.indexOf('=');
    if (equals > 0) into.set(assignment.slice(0, equals), assignment.slice(equals + 1));
  }
}

/** Splits `{a=b}sofia/gw/x/1|[c=d]error/USER_BUSY` into channel variables and targets. */
export function parseDialString(dialString: string): DialString {
  const variables = new Map<string, string>();
  let rest = dialString.trim();
  const globals = /^\{([^}]*)\}/.exec(rest);
  if (globals !== null) {
    parseVariableList(globals[1], variables);
    rest = rest.slice(globals[0].length);
  }
  const targets = rest
    .split('|')
    .map((group) => group.split(',')[0].trim())
    .map((target) => {
      const local = /^\[([^\]]*)\]/.exec(target);
      if (local === null) return target;
      parseVariableList(local[1], variables);
      return target.slice(local[0].length);
    })
    .filter((target) => target !== '');
  return { variables, targets };
}

function destinationOf(target: string): string {
  const lastSegment = target.slice(target.lastIndexOf('/') + 1);
  const at = lastSegment.indexOf('@');
  return at < 0 ? lastSegment : lastSegment.slice(0, at);
}

function exportedVariables(channel: Channel): Map<string, string> {
  const exported = new Map<string, string>();
  for (const name of (channel.variables.get('export_vars') ?? '').split(',')) {
    const value = channel.variables.get(name);
    if (name !== '' && value !== undefined) exported.set(name.replace(/^(nolocal:|_nolocal_)/i, ''), value);
  }
  return exported;
}

/**
 * `bridge DIALSTRING` to a simulated far end: `error/CAUSE` targets fail with that cause (the next `|`
 * target is tried), any other target answers at once and stays up until one of the legs hangs up, which
 * for a placed call means until its duration ends. When every target fails the caller is hung up with
 * the cause unless `continue_on_fail` is set.
 */
export const bridgeApplication: DialplanApplication = {
  routingExec: false,
  async run({ channel, core, data }) {
    const { variables, targets } = parseDialString(data);
    let failure = 'NO_ROUTE_DESTINATION';
    let peer: Channel | undefined;
    for (const target of targets) {
      if (target.toLowerCase().startsWith('error/')) {
        failure = causeFromString(target.slice('error/'.length));
        continue;
      }
      peer = core.createOutboundLeg(
        channel,
        target,
        destinationOf(target),
        new Map([...exportedVariables(channel), ...variables])
      );
      break;
    }
    if (peer === undefined) {
      channel.variables.set('originate_disposition', failure);
      channel.variables.set('DIALSTATUS', failure);
      const continueOnFail = channel.variables.get('continue_on_fail');
      if (!isFsTrue(continueOnFail) && !(continueOnFail ?? '').split(',').includes(failure)) channel.hangup(failure);
      return;
    }

    peer.answer();
    channel.answer();
    const bridgedUs = core.nowUs();
    channel.times.bridgedUs = bridgedUs;
    peer.times.bridgedUs = bridgedUs;
    channel.peer = peer;
    peer.peer = channel;
    for (const [leg, other] of [
      [channel, peer],
      [peer, channel],
    ] as const) {
      leg.variables.set('bridge_to', other.uuid);
      leg.variables.set('last_bridge_to', other.uuid);
      leg.variables.set('bridge_channel', other.name);
      leg.variables.set('bridge_uuid', other.uuid);
      leg.variables.set('signal_bond', other.uuid);
    }
    channel.variables.set('originate_disposition', 'SUCCESS');
    channel.variables.set('DIALSTATUS', 'SUCCESS');
    const legs: Array<[string, string]> = [
      ['Bridge-A-Unique-ID', channel.uuid],
      ['Bridge-B-Unique-ID', peer.uuid],
    ];
    core.fireChannelEvent(channel, 'CHANNEL_BRIDGE', [], legs);

    await Promise.race([channel.whenHungUp(), peer.whenHungUp()]);

    channel.variables.delete('bridge_to');
    peer.variables.delete('bridge_to');
    core.fireChannelEvent(channel, 'CHANNEL_UNBRIDGE', [], legs);
    if (channel.isUp && isFsTrue(channel.variables.get('hangup_after_bridge'))) channel.hangup('NORMAL_CLEARING');
  },
};
