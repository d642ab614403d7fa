import { MAX_PORT, splitHostPort } from '../net/host-port';
import { UsageError } from './cli-error';
import { ESL_PASSWORD_VARIABLE } from './secret-variables';

export interface EslTarget {
  readonly host: string;
  readonly port: number;
  readonly password: string;
}

/** Validates `--esl HOST:PORT` and the password (from `--password` or the environment). */
export function parseEslTarget(esl: string | undefined, password: string | undefined): EslTarget {
  if (esl === undefined) throw new UsageError('--esl: required (HOST:PORT of the media server event socket)');
  const target = splitHostPort(esl);
  if (target === undefined) throw new UsageError(`--esl: "${esl}" is not HOST:PORT`);
  if (target.port < 1 || target.port > MAX_PORT) throw new UsageError(`--esl: port ${target.port} is not in 1..${MAX_PORT}`);
  if (!password) throw new UsageError(`--password-file or --password: required (or set ${ESL_PASSWORD_VARIABLE})`);
  return { ...target, password };
}
