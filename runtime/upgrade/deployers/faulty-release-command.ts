import { callFaultEnvironment } from '../../call-control/call-control-environment';
import type { CallFaults } from '../../call-control/call-faults';
import type { Release } from './deployer';
import { referenceCallControlCommand, type ProcessCommand } from './local-process-deployer';

export interface FaultyReleaseOptions {
  /** The version (image tag) that fails calls. */
  readonly version: string;
  readonly faults: CallFaults;
  /** How releases run otherwise. @default the reference call-control service */
  readonly command?: (release: Release) => ProcessCommand;
}

/**
 * How local processes run releases when one version is a bad one: that version runs with the reference service's
 * fault injection on (its `CALL_CONTROL_FAIL_*` variables), every other release as usual. A local fleet's deployers
 * take it as their `command`, so a canary upgrade to that version can be tried and rolled back on this machine.
 */
export function faultyReleaseCommand(options: FaultyReleaseOptions): (release: Release) => ProcessCommand {
  const base = options.command ?? referenceCallControlCommand;
  return (release) => {
    const command = base(release);
    if (release.version !== options.version) return command;
    return { ...command, env: { ...command.env, ...callFaultEnvironment(options.faults) } };
  };
}
