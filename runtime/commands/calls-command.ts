import { EslTarget } from './esl-target';
import { withMediaServer } from './media-server-session';
import { Output, formatTable } from './output';

export interface CallsCommand {
  readonly target: EslTarget;
  readonly group?: string;
  readonly json: boolean;
}

/** `voiceplane calls`: calls in progress on a media server, per call-control group. */
export async function runCallsCommand(command: CallsCommand, output: Output): Promise<void> {
  const calls = await withMediaServer(command.target, (client) => client.activeCalls(command.group));
  if (command.json) {
    output.line(JSON.stringify({ total: calls.total, byGroup: calls.byGroup }));
    return;
  }
  output.line(`total: ${calls.total}`);
  formatTable(['GROUP', 'CALLS'], Object.entries(calls.byGroup).map(([group, count]) => [group, String(count)])).forEach((line) => output.line(line));
}
