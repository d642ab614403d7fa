import { DialplanError } from '../dialplan';
import { EslAuthError, EslError } from '../esl';
import { MediaServerClient, MediaServerReplyError, MissingRouteTableError, RouteVerificationError, SharesUnsupportedError } from '../media-server';
import { CliError } from './cli-error';
import { EslTarget } from './esl-target';

/** Bound on reaching and authenticating to a media server from the CLI. */
export const CLI_CONNECT_TIMEOUT_MS = 10_000;

/** Runs `work` with a connected media-server client, turning every known failure into a one-line CliError. */
export async function withMediaServer<T>(target: EslTarget, work: (client: MediaServerClient) => Promise<T>): Promise<T> {
  let client: Awaited<ReturnType<typeof MediaServerClient.connect>>;
  try {
    client = await MediaServerClient.connect({ ...target, connectTimeoutMs: CLI_CONNECT_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof EslAuthError) throw new CliError(`authentication failed at media server ${target.host}:${target.port}: wrong event socket password (${error.replyText.trim()})`);
    throw new CliError(`cannot reach media server ${target.host}:${target.port}: ${(error as Error).message}`);
  }
  try {
    return await work(client);
  } catch (error) {
    const known = [DialplanError, EslError, RouteVerificationError, MissingRouteTableError, MediaServerReplyError, SharesUnsupportedError];
    if (known.some((kind) => error instanceof kind)) {
      throw new CliError((error as Error).message);
    }
    throw error;
  } finally {
    await client.close();
  }
}
