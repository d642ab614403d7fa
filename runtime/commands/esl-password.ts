import { readFileSync } from 'fs';
import { UsageError } from './cli-error';
import { ESL_PASSWORD_VARIABLE } from './secret-variables';

/** The flags a command that talks to an event socket takes for its password. */
export interface EslPasswordOptions {
  readonly password?: string;
  /** A file holding the password: unlike `--password`, it does not show in the process list. */
  readonly 'password-file'?: string;
}

/** The ESL password from `--password`, `--password-file` or the environment, in that order; both flags is a usage error. */
export function eslPassword(options: EslPasswordOptions, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const file = options['password-file'];
  if (options.password !== undefined && file !== undefined) throw new UsageError('--password, --password-file: give one of them, not both');
  if (file === undefined) return options.password ?? env[ESL_PASSWORD_VARIABLE];
  return passwordOf(readPasswordFile(file));
}

/** The options with `--password-file` resolved: the password from either flag or the environment as `password`. */
export function withEslPassword<T extends EslPasswordOptions>(options: T, env: Readonly<Record<string, string | undefined>>): Omit<T, 'password-file'> & { readonly password?: string } {
  const { 'password-file': _file, ...rest } = options;
  return { ...rest, password: eslPassword(options, env) };
}

function readPasswordFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--password-file: cannot read ${file}: ${(error as Error).message}`);
  }
}

function passwordOf(text: string): string {
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new UsageError('--password-file: the file holds no password');
  // A line break would end the event socket's `auth` command and start another.
  if (/[\r\n]/.test(password)) throw new UsageError('--password-file: the password must be one line');
  return password;
}
