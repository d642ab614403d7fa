import { z } from 'zod';
import { UsageError } from './cli-error';

export interface EslTarget {
  readonly host: string;
  readonly port: number;
  readonly password: string;
}

const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected HOST:PORT');

/** Validates `--esl HOST:PORT` and the password (from `--password` or the environment). */
export function parseEslTarget(esl: string | undefined, password: string | undefined): EslTarget {
  if (esl === undefined) throw new UsageError('--esl: required (HOST:PORT of the media server event socket)');
  const parsed = hostPort.safeParse(esl);
  if (!parsed.success) throw new UsageError(`--esl: "${esl}" is not HOST:PORT`);
  const separator = esl.lastIndexOf(':');
  const port = Number(esl.slice(separator + 1));
  if (port < 1 || port > 65535) throw new UsageError(`--esl: port ${port} is not in 1..65535`);
  if (!password) throw new UsageError('--password: required (or set VOICEPLANE_ESL_PASSWORD)');
  return { host: esl.slice(0, separator), port, password };
}
