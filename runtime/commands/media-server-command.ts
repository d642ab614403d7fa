import { z } from 'zod';
import {
  HOST_VARIABLES_FILE,
  renderHostVariables,
  renderMediaServerConfig,
} from '../freeswitch-config/media-server-config';
import { MediaServerConfigError } from '../freeswitch-config/config-error';
import { mediaServerSettingsFromTopology } from '../freeswitch-config/topology-media-server';
import { DEFAULT_TOPOLOGY, renderFromTopology, writeConfigFiles } from './config-files';
import { parseOptions } from './option-schema';
import type { Output } from './output';

/** Option values of `voiceplane media-server ...` as util.parseArgs returns them. */
export interface MediaServerCommand {
  readonly site?: string;
  readonly mediaServer?: string;
  readonly topology?: string;
  readonly out?: string;
  readonly loopback?: boolean;
  readonly eslPort?: string;
  readonly sipPort?: string;
  readonly rtpPorts?: string;
}

const LOOPBACK = { listenIp: '127.0.0.1', eslAllowedCidrs: ['127.0.0.0/8'], sipAllowedCidrs: ['127.0.0.0/8'] };

const id = (flag: string, what: string) =>
  z.string({ error: `${flag}: required (${what})` }).regex(/^[a-z][a-z0-9-]{0,62}$/, `${flag}: not a ${what} (lowercase letters, digits and dashes)`);
const port = (flag: string) =>
  z
    .string()
    .regex(/^[0-9]{1,5}$/, `${flag}: expected a port number`)
    .transform(Number)
    .refine((value) => value >= 1 && value <= 65535, `${flag}: port out of range`)
    .optional();

const configSchema = z.object({
  site: id('--site', 'site id'),
  mediaServer: id('--media-server', 'media server id'),
  out: z.string({ error: "--out: required (directory to write FreeSWITCH's configuration to)" }).min(1, '--out: empty directory name'),
  topology: z.string().min(1, '--topology: empty file name').default(DEFAULT_TOPOLOGY),
  loopback: z.boolean().default(false),
  eslPort: port('--esl-port'),
  sipPort: port('--sip-port'),
  rtpPorts: z
    .string()
    .regex(/^[0-9]{1,5}-[0-9]{1,5}$/, '--rtp-ports: expected FROM-TO, e.g. 20000-20999')
    .transform((value) => {
      const [from, to] = value.split('-').map(Number);
      return { from, to };
    })
    .optional(),
});

/** `voiceplane media-server config`: writes exactly the files cloud-init installs in /etc/freeswitch. */
export function runMediaServerCommand(command: MediaServerCommand, output: Output): void {
  const options = parseOptions(configSchema, command);
  const files = renderFromTopology(
    options.topology,
    (topology) => {
      const planned = mediaServerSettingsFromTopology(topology, options.site, options.mediaServer);
      const config = renderMediaServerConfig({
        ...planned,
        ...(options.loopback ? LOOPBACK : {}),
        ...(options.eslPort !== undefined ? { eslPort: options.eslPort } : {}),
        ...(options.sipPort !== undefined ? { sipPort: options.sipPort } : {}),
        ...(options.rtpPorts !== undefined ? { rtpPorts: options.rtpPorts } : {}),
      });
      // On AWS the boot script writes the public address; a local run announces loopback.
      return options.loopback ? { ...config, [HOST_VARIABLES_FILE]: renderHostVariables(LOOPBACK.listenIp) } : { ...config };
    },
    MediaServerConfigError,
  );
  writeConfigFiles(options.out, files, output);
}
