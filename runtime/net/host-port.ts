import { z } from 'zod';

/** A TCP endpoint as the command lines write it: `HOST:PORT`. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export const MAX_PORT = 65535;

const HOST_PORT = /^([A-Za-z0-9.-]+):([0-9]{1,5})$/;

/** Splits `HOST:PORT` (a host name or IPv4 address, a decimal port of at most five digits); the port's range is the caller's. */
export function splitHostPort(text: string): HostPort | undefined {
  const match = HOST_PORT.exec(text);
  return match ? { host: match[1], port: Number(match[2]) } : undefined;
}

export function formatHostPort(target: HostPort): string {
  return `${target.host}:${target.port}`;
}

/** What a `HOST:PORT` option says when the value is not `HOST:PORT`, and when its port is outside `minPort..65535`. */
export interface HostPortMessages {
  readonly syntax: string;
  readonly range: string;
}

/** `HOST:PORT` text to a {@link HostPort} whose port is in `minPort..65535` (0 lets a listener take any free port). */
export function hostPortSchema(messages: HostPortMessages, minPort = 0) {
  return z.string().transform((value, context): HostPort => {
    const target = splitHostPort(value);
    if (target === undefined) context.addIssue({ code: 'custom', message: messages.syntax });
    else if (target.port < minPort || target.port > MAX_PORT) context.addIssue({ code: 'custom', message: messages.range });
    else return target;
    return z.NEVER;
  });
}
