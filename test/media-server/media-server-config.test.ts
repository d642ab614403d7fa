import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { XMLValidator } from 'fast-xml-parser';
import { parseTopology, siteStackName } from '../../lib';
import { CliError, UsageError } from '../../runtime/commands/cli-error';
import { type MediaServerCommand, runMediaServerCommand } from '../../runtime/commands/media-server-command';
import { MediaServerConfigError } from '../../runtime/freeswitch-config/config-error';
import { MEDIA_SERVER_MODULES, renderMediaServerConfig } from '../../runtime/freeswitch-config/media-server-config';
import { MEDIA_SERVER_SYSCTL_FILE, renderMediaServerSysctl } from '../../runtime/freeswitch-config/media-server-sysctl';
import { readStackJson, synthPlatform } from '../support/synth-platform';

const TOPOLOGY = path.join(__dirname, '../../stacks/topology.example.json');

function writeConfig(command: Omit<MediaServerCommand, 'out'>): { dir: string; lines: string[]; file(relative: string): string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'voiceplane-ms-config-'));
  const lines: string[] = [];
  runMediaServerCommand({ out: dir, ...command }, { line: (text: string) => lines.push(text) });
  return { dir, lines, file: (relative) => readFileSync(path.join(dir, relative), 'utf8') };
}

/** The content cloud-init writes to `file` (a literal block, indented six spaces). */
function installedFile(userData: string, file: string): string {
  const match = new RegExp(`  - path: ${file.replace(/[.]/g, '\\.')}\\n(?:    .*\\n)*?    content: \\|\\n((?:      .*\\n|\\n)*)`).exec(userData);
  if (!match) throw new Error(`user data does not install ${file}`);
  return `${match[1].replace(/^ {6}/gm, '').trimEnd()}\n`;
}

describe('the media server FreeSWITCH configuration', () => {
  const westStack = JSON.parse(readStackJson(synthPlatform(parseTopology(JSON.parse(readFileSync(TOPOLOGY, 'utf8'))), 'aws').stackDirs[siteStackName('acme', 'west')])) as {
    resource: Record<string, Record<string, Record<string, unknown>>>;
  };
  const userDataOf = (mediaServerId: string) =>
    Object.values(westStack.resource.aws_launch_template)
      .map((template) => gunzipSync(Buffer.from(String(template.user_data), 'base64')).toString('utf8'))
      .find((text) => text.includes(`# voiceplane media server ${mediaServerId}\n`))!;

  it.each(['ms-1', 'ms-2'])('is exactly what cloud-init installs on %s, file for file', (mediaServerId) => {
    const written = writeConfig({ site: 'west', mediaServer: mediaServerId, topology: TOPOLOGY });
    const userData = userDataOf(mediaServerId);
    const relativePaths = written.lines.map((line) => path.relative(written.dir, line));
    expect(relativePaths).toContain('sip_profiles/voiceplane.xml');
    for (const relative of relativePaths) {
      expect(installedFile(userData, `/etc/voiceplane/freeswitch/${relative}`)).toBe(written.file(relative));
    }
    expect(userData.match(/ {2}- path: \/etc\/voiceplane\/freeswitch\//g)).toHaveLength(relativePaths.length);
    // The socket application has no connect timeout: the kernel's SYN retries bound it.
    expect(installedFile(userData, MEDIA_SERVER_SYSCTL_FILE)).toBe(renderMediaServerSysctl());
    expect(renderMediaServerSysctl()).toContain('net.ipv4.tcp_syn_retries = 2');
    expect(installedFile(userData, '/usr/local/sbin/voiceplane-boot')).toContain(`sysctl -p ${MEDIA_SERVER_SYSCTL_FILE}\n/usr/local/sbin/voiceplane-freeswitch-config\n`);
  });

  it('carries nothing of a stock configuration: only our modules, no directory users, a SIP profile without auth surface', () => {
    const written = writeConfig({ site: 'west', mediaServer: 'ms-1', topology: TOPOLOGY });
    for (const line of written.lines) expect(XMLValidator.validate(readFileSync(line, 'utf8'))).toBe(true);
    expect([...written.file('autoload_configs/modules.conf.xml').matchAll(/<load module="([^"]+)"\/>/g)].map((match) => match[1])).toEqual([...MEDIA_SERVER_MODULES]);
    expect(written.file('freeswitch.xml')).not.toContain('directory');
    const profile = written.file('sip_profiles/voiceplane.xml');
    expect(profile).toContain('<param name="context" value="voiceplane"/>');
    expect(profile).toContain('<param name="sip-ip" value="10.1.128.10"/>');
    expect(profile).toContain('<param name="apply-inbound-acl" value="voiceplane_sip_cluster"/>');
    expect(profile).toContain('<param name="disable-register" value="true"/>');
    expect(profile).toContain('<param name="ext-rtp-ip" value="$${voiceplane_public_ip}"/>');
    // The RTP range the security group opens.
    expect(written.file('autoload_configs/switch.conf.xml')).toContain('<param name="rtp-start-port" value="16384"/>');
    expect(written.file('autoload_configs/switch.conf.xml')).toContain('<param name="rtp-end-port" value="32768"/>');
  });

  it('binds every listener to loopback for a local run, with the ports asked for', () => {
    const written = writeConfig({ site: 'west', mediaServer: 'ms-1', topology: TOPOLOGY, loopback: true, eslPort: '18021', sipPort: '15060', rtpPorts: '20000-20998' });
    const everything = written.lines.map((line) => readFileSync(line, 'utf8')).join('\n');
    expect(everything).not.toContain('10.1.');
    expect(written.file('autoload_configs/event_socket.conf.xml')).toContain('<param name="listen-port" value="18021"/>');
    expect(written.file('sip_profiles/voiceplane.xml')).toContain('<param name="sip-port" value="15060"/>');
    expect(written.file('voiceplane-host.xml')).toContain('voiceplane_public_ip=127.0.0.1');
  });

  it.each([
    [{ eslAllowedCidrs: [] }, 'eslAllowedCidrs: must name at least one network'],
    [{ sipAllowedCidrs: ['10.1.0.0/33'] }, 'sipAllowedCidrs[0]: "10.1.0.0/33" is not an IPv4 CIDR block'],
    [{ listenIp: '0.0.0.0' }, 'listenIp: must be one address, not 0.0.0.0'],
    [{ rtpPorts: { from: 16385, to: 32768 } }, 'rtpPorts.from: must be even'],
    [{ sipPort: 8021 }, 'sipPort: must differ from eslPort'],
    [{ sipPort: 20000, rtpPorts: { from: 16384, to: 32768 } }, 'rtpPorts: sipPort and eslPort must lie outside the RTP range'],
    [{ secret: 'x' }, 'secret'],
  ])('refuses %j, naming the setting', (override, message) => {
    const render = () =>
      renderMediaServerConfig({ mediaServerId: 'ms-1', listenIp: '10.1.128.10', eslAllowedCidrs: ['10.100.0.0/20'], sipAllowedCidrs: ['10.1.128.0/20'], ...override } as never);
    expect(render).toThrow(MediaServerConfigError);
    expect(render).toThrow(message);
  });

  it.each([
    [{ site: 'west', mediaServer: 'ms-9' }, CliError, 'no media server "ms-9" in site west (media servers: ms-1, ms-2)'],
    [{ site: 'nowhere', mediaServer: 'ms-1' }, CliError, 'no site "nowhere" in the topology'],
    [{ site: 'west', mediaServer: 'ms-1', rtpPorts: '20000' }, UsageError, '--rtp-ports: expected FROM-TO'],
    [{ site: 'west', mediaServer: 'ms-1', eslPort: '70000' }, UsageError, '--esl-port: port out of range'],
    [{ site: 'west' }, UsageError, '--media-server: required'],
    [{ site: 'west', mediaServer: 'ms-1', topology: '/nonexistent.json' }, CliError, '--topology: cannot read /nonexistent.json (ENOENT)'],
  ])('the command refuses %j with one line and writes nothing', (command, errorClass, message) => {
    const run = () => writeConfig({ topology: TOPOLOGY, ...command });
    expect(run).toThrow(errorClass);
    expect(run).toThrow(message);
  });
});
