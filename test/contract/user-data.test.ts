import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { dataCenterStackName, parseTopology, siteStackName, type Topology } from '../../lib';
import { SOCKET_CONNECT_SYN_RETRIES } from '../../runtime/freeswitch-config/media-server-sysctl';
import { formatIpv4, parseCidr } from '../../runtime/net/ipv4';
import { resolveKamailioSettings } from '../../runtime/sip';
import { cloudInitSchema, cloudInitToolsOrSkip } from '../support/contract/cloud-init-tools';
import { namespacesOrSkip, runInInstanceNamespace } from '../support/contract/instance-namespace';
import { launchTemplateUserData, type LaunchTemplateUserData } from '../support/contract/launch-template-user-data';
import type { MediaServerBootInput, MediaServerBootReport } from '../support/contract/media-server-boot-probe';
import type { SipNodeBootInput, SipNodeBootReport } from '../support/contract/sip-node-boot-probe';
import { freeSwitchBinaryOrSkip } from '../support/real-freeswitch';
import { sipToolsOrSkip } from '../support/sip/sip-tools';
import { readStackJson, synthPlatform } from '../support/synth-platform';

/**
 * What the stacks deploy must boot. The user data is taken from the synthesized Terraform JSON (each launch template's
 * base64 `user_data`, gzip and all) and handed to Debian's cloud-init: first its schema check, then a real first boot
 * in an instance namespace of its own (instance-namespace.ts): private copy-on-write /etc, /var, /run, /root and
 * /usr/local, its own loopback-only network, stand-ins for the EC2 metadata service and Secrets Manager on loopback,
 * and stand-ins for systemctl/apt-get (no systemd, no network there).
 */

type Resource = Record<string, unknown> & { '//'?: { metadata?: { path?: string } } };
interface StackJson {
  readonly resource: Record<string, Record<string, Resource>>;
  readonly provider: { readonly aws: readonly { readonly region?: string }[] };
}

const EXAMPLE_TOPOLOGY = path.join(__dirname, '../../stacks/topology.example.json');
const CALLER_SCENARIO = path.join(__dirname, '../support/sip/scenarios/caller.xml');
const PROBES = path.join(__dirname, '../support/contract');

const tools = cloudInitToolsOrSkip();
const canBoot = tools !== undefined && namespacesOrSkip();
const freeswitch = canBoot ? freeSwitchBinaryOrSkip() : undefined;
const sipTools = canBoot ? sipToolsOrSkip() : undefined;

function readTopology(): Topology {
  return parseTopology(JSON.parse(readFileSync(EXAMPLE_TOPOLOGY, 'utf8')));
}

/**
 * The example platform with every VPC moved into 127.0.0.0/8: its user data differs only in addresses, and the boot
 * tests may then bind, admit and reach each of them on the namespace's loopback, never on another network.
 */
function loopbackTopology(encryptedSiteIds: readonly string[] = []): Topology {
  const raw = JSON.parse(readFileSync(EXAMPLE_TOPOLOGY, 'utf8')) as { dataCenters: { vpcCidr: string }[]; sites: { id: string; vpcCidr: string; pstn: Record<string, unknown> }[] };
  raw.dataCenters.forEach((dataCenter, index) => (dataCenter.vpcCidr = `127.${100 + index}.0.0/16`));
  raw.sites.forEach((site, index) => (site.vpcCidr = `127.${1 + index}.0.0/16`));
  raw.sites.filter((site) => encryptedSiteIds.includes(site.id)).forEach((site) => (site.pstn.requireEncryption = true));
  return parseTopology(raw);
}

function stacksOf(topology: Topology): Record<string, StackJson> {
  const platform = synthPlatform(topology, 'aws');
  try {
    return Object.fromEntries(Object.entries(platform.stackDirs).map(([name, dir]) => [name, JSON.parse(readStackJson(dir)) as StackJson]));
  } finally {
    rmSync(platform.outdir, { recursive: true, force: true });
  }
}

let loopbackPlatform: Record<string, StackJson> | undefined;
/** The loopback platform's stacks, synthesized once for both boot suites. */
const loopbackStacks = () => (loopbackPlatform ??= stacksOf(loopbackTopology()));

const constructPath = (resource: Resource) => resource['//']?.metadata?.path ?? '';

/** The one resource of `type` whose construct path ends with `suffix`. */
function resourceAt(stack: StackJson, type: string, suffix: string): [string, Resource] {
  const matches = Object.entries(stack.resource[type] ?? {}).filter(([, resource]) => constructPath(resource).endsWith(suffix));
  if (matches.length !== 1) throw new Error(`expected one ${type} at ${suffix}, found ${matches.length}`);
  return matches[0];
}

/** The resource a `${type.name.attribute}` reference names. */
function referenced(stack: StackJson, reference: unknown): Resource {
  const [, type, name] = /^\$\{([a-z0-9_]+)\.([^.]+)\.[a-z_]+\}$/.exec(String(reference)) ?? [];
  const resource = stack.resource[type]?.[name];
  if (!resource) throw new Error(`unresolvable reference ${String(reference)}`);
  return resource;
}

function hostInCidr(cidr: string, offset: number): string {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`not a CIDR: ${cidr}`);
  return formatIpv4(parsed.network + offset);
}

function launchTemplateAt(stackName: string, stack: StackJson, suffix: string): LaunchTemplateUserData {
  const [resourceName] = resourceAt(stack, 'aws_launch_template', suffix);
  return launchTemplateUserData(stackName, stack).find((template) => template.resource === resourceName)!;
}

function writeInput(directory: string, name: string, input: object): string {
  const file = path.join(directory, `${name}.json`);
  writeFileSync(file, JSON.stringify(input));
  return file;
}

const BOOT_STAGES = ['init', 'modules --mode config', 'modules --mode final'];
/** The stages that ran, each as its name when it exited 0, else with its status and output (shown by a failure). */
const stageOutcomes = (stages: MediaServerBootReport['stages']) =>
  stages.map(({ stage, status, output }) => (status === 0 ? stage : `${stage} exited ${status}:\n${output}`));

/** What cloud-init printed in all its stages (where the boot scripts' stderr goes). */
const bootOutput = (boot: MediaServerBootReport | SipNodeBootReport) => boot.stages.map(({ output }) => output).join('\n');

/** The CloudWatch agent configuration shipping `files` into `logGroup`, one stream per instance and file. */
const agentConfigShipping = (logGroup: string, files: readonly string[]) => ({
  agent: { run_as_user: 'root' },
  logs: { logs_collected: { files: { collect_list: files.map((file) => ({ file_path: file, log_group_name: logGroup, log_stream_name: `{instance_id}${file}` })) } } },
});

(tools ? describe : describe.skip)('user data of every launch template the example platform synthesizes', () => {
  const templates = tools ? Object.entries(stacksOf(readTopology())).flatMap(([name, stack]) => launchTemplateUserData(name, stack)) : [];

  it('covers the media servers and SIP nodes of every site', () => {
    const kinds = templates.map((template) => `${template.stack} ${template.resource.replace(/_LaunchTemplate_.*$/, '')}`).sort();
    expect(kinds).toEqual([
      'acme-site-frankfurt Site_MediaServer-ms-1',
      'acme-site-frankfurt Site_MediaServer-ms-2',
      'acme-site-frankfurt Site_SipCluster',
      'acme-site-west Site_MediaServer-ms-1',
      'acme-site-west Site_MediaServer-ms-2',
      'acme-site-west Site_SipCluster',
    ]);
  });

  it('is a cloud-config that Debian\'s cloud-init accepts', async () => {
    for (const template of templates) {
      const verdict = await cloudInitSchema(tools!, template.cloudConfig);
      expect({ template: `${template.stack}/${template.resource}`, ...verdict }).toEqual({ template: `${template.stack}/${template.resource}`, valid: true, output: expect.any(String) });
    }
  });

  it('would be refused if a module key were wrong (the schema check has teeth)', async () => {
    const broken = templates[0].cloudConfig.replace('\nruncmd:', '\nruncmd: 42\nrun_cmd:');
    const verdict = await cloudInitSchema(tools!, broken);
    expect(verdict.valid).toBe(false);
    expect(verdict.output).toMatch(/runcmd/);
  });
});

(canBoot && freeswitch && sipTools ? describe : describe.skip)('a media server booting its synthesized user data (real cloud-init, real FreeSWITCH)', () => {
  let report: MediaServerBootReport;
  /** The same boot with Secrets Manager unreachable. */
  let withoutSecrets: MediaServerBootReport;
  let expected: { logGroup: string; siteRegion: string; routes: unknown; secretName: string; region: string; publicIp: string };
  const scratch = mkdtempSync(path.join(tmpdir(), 'voiceplane-user-data-'));

  beforeAll(async () => {
    const stacks = loopbackStacks();
    const siteName = siteStackName('acme', 'west');
    const site = stacks[siteName];
    const dataCenter = stacks[dataCenterStackName('acme', 'east')];
    const template = launchTemplateAt(siteName, site, '/MediaServer-ms-1/LaunchTemplate');
    const [, instance] = resourceAt(site, 'aws_instance', '/MediaServer-ms-1/Instance');
    const eslCidrs = Object.values(site.resource.aws_vpc_security_group_ingress_rule)
      .filter((rule) => constructPath(rule).includes('/MediaServer-ms-1/') && rule.from_port === 8021 && typeof rule.cidr_ipv4 === 'string')
      .map((rule) => String(rule.cidr_ipv4));
    const [, sipNode] = resourceAt(site, 'aws_instance', '/SipCluster/Node0');
    const [, record] = resourceAt(dataCenter, 'aws_route53_record', '/Endpoint-west-ms-1/DnsName');
    const host = `${String(record.name)}.${String(referenced(dataCenter, record.zone_id).name)}`;
    const groups = ['blue', 'green'].map((id) => ({ id, port: Number(resourceAt(dataCenter, 'aws_lb_listener', `/Group-west-ms-1-${id}/Listener`)[1].port) }));
    const [, secret] = resourceAt(dataCenter, 'aws_secretsmanager_secret', '/EslPassword-west');
    const input: MediaServerBootInput = {
      userDataFile: path.join(scratch, 'media-server.user-data'),
      privateIp: String(instance.private_ip),
      publicIp: '127.203.0.10',
      region: String(site.provider.aws[0].region),
      secret: { name: String(secret.name), region: String(dataCenter.provider.aws[0].region) },
      callControl: { host, groups },
      sipClusterSource: hostInCidr(String(referenced(site, sipNode.subnet_id).cidr_block), 50),
      eslAdmittedSource: hostInCidr(eslCidrs[0], 5),
      freeswitchBinary: freeswitch!,
      sipp: sipTools!.sipp,
      callerScenario: CALLER_SCENARIO,
    };
    writeFileSync(input.userDataFile, template.raw);
    expected = {
      logGroup: String(resourceAt(site, 'aws_cloudwatch_log_group', '/MediaServer-ms-1/LogGroup')[1].name),
      siteRegion: input.region,
      routes: { groups: groups.map(({ id, port }) => ({ id, endpoints: [{ host, port }], state: 'active' })) },
      secretName: input.secret.name,
      region: input.secret.region,
      publicIp: input.publicIp,
    };
    report = await runInInstanceNamespace<MediaServerBootReport>(path.join(PROBES, 'media-server-boot-probe.ts'), [writeInput(scratch, 'media-server', input)], 150_000);
    withoutSecrets = await runInInstanceNamespace<MediaServerBootReport>(
      path.join(PROBES, 'media-server-boot-probe.ts'),
      [writeInput(scratch, 'media-server-no-secrets', { ...input, secretsManagerUnreachable: true })],
      150_000,
    );
  }, 360_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('runs every cloud-init stage cleanly and starts FreeSWITCH through its unit', () => {
    expect(stageOutcomes(report.stages)).toEqual(BOOT_STAGES);
    expect(report.stages.map(({ output }) => output).join('\n')).not.toMatch(/Traceback|FAIL/);
    expect(report.systemctl).toEqual(['enable --now freeswitch']);
    expect(report.freeswitchUser).toBe('freeswitch');
  });

  it("configures the CloudWatch agent to ship FreeSWITCH's log and the boot's output to the media server's log group", () => {
    expect(report.cloudWatchAgentConfig).toEqual(agentConfigShipping(expected.logGroup, ['/var/log/freeswitch/freeswitch.log', '/var/log/cloud-init-output.log']));
  });

  it('does not fail the boot when the agent cannot be installed (offline here), and says so in the boot output', () => {
    expect(bootOutput(report)).toContain(`voiceplane: log shipping: cannot download the CloudWatch agent from https://amazoncloudwatch-agent-${expected.siteRegion}.s3.${expected.siteRegion}.amazonaws.com`);
    expect(stageOutcomes(report.stages)).toEqual(BOOT_STAGES);
  });

  it('never starts FreeSWITCH when the ESL password cannot be fetched (no event socket without its password)', () => {
    expect(withoutSecrets.systemctl).toEqual([]);
    expect(withoutSecrets.freeswitchUser).toBe('');
    expect(withoutSecrets.secretsFile).toBeUndefined();
  });

  it('installs its configuration whole, moving the AMI\'s aside, and bounds SYN retries', () => {
    expect(report.configInstalled).toBe(true);
    expect(report.amiConfigMovedAside).toBe(true);
    expect(report.tcpSynRetries).toBe(SOCKET_CONNECT_SYN_RETRIES);
  });

  it('generates the ESL password on first boot, in the data center\'s secret, with the instance role\'s credentials', () => {
    expect(report.passwordGenerated).toBe(true);
    expect(report.secretsManagerCalls.map(({ operation }) => operation)).toEqual(['GetSecretValue', 'PutSecretValue', 'GetSecretValue']);
    for (const call of report.secretsManagerCalls) {
      expect(call).toMatchObject({ secretId: expected.secretName, region: expected.region, accessKeyId: 'ASIACONTRACTTEST0001' });
    }
    expect(report.secretsManagerCalls[1].clientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(report.metadataReads).toContain('public-ipv4');
    expect(report.secretsFile).toEqual({ mode: '400', owner: 'freeswitch' });
  });

  it('accepts ESL with that password only, and only from the networks its ACL admits', () => {
    expect(report.eslWithStoredPassword).toMatch(/^UP /);
    expect(report.eslWithWrongPassword).toMatch(/^refused/);
    expect(report.eslFromAdmittedSource).toBe('Content-Type: auth/request');
    expect(report.eslFromOutsideAcl).toBe('Content-Type: text/rude-rejection');
  });

  it('announces RTP on the instance\'s public address', () => {
    expect(report.publicIpVariable).toBe(expected.publicIp);
  });

  it('seeds the route table the data center serves: each group at its endpoint name and listener port', () => {
    expect(report.routes).toEqual(expected.routes);
    expect(report.routesInCoreDb).not.toMatch(/^-ERR/);
  });

  it('routes a call from the SIP cluster to the first call-control group', () => {
    expect(report.call).toEqual({ sippExit: 0, callControlSaw: { blue: 1, green: 0 } });
  });
});

/** What an operator puts into a site's RPC token secret. */
const RPC_TOKEN = 'contract-test-rpc-token-0123456789abcdef';

/** The RPC token secret of the site's SIP cluster, holding `value` if given. */
function rpcTokenOf(site: StackJson, value: string | undefined): SipNodeBootInput['rpcToken'] {
  const [, secret] = resourceAt(site, 'aws_secretsmanager_secret', '/SipCluster/RpcToken');
  return { secretName: String(secret.name), region: String(site.provider.aws[0].region), value, path: resolveKamailioSettings().rpcTokenPath };
}

(canBoot && sipTools ? describe : describe.skip)('a SIP node booting its synthesized user data (real cloud-init, real Kamailio)', () => {
  let report: SipNodeBootReport;
  let withoutToken: SipNodeBootReport;
  let nodeAddress: string;
  let sipLogGroup: string;
  const scratch = mkdtempSync(path.join(tmpdir(), 'voiceplane-user-data-'));

  beforeAll(async () => {
    const stacks = loopbackStacks();
    const siteName = siteStackName('acme', 'west');
    const site = stacks[siteName];
    const template = launchTemplateAt(siteName, site, '/SipCluster/LaunchTemplate');
    const [, node] = resourceAt(site, 'aws_instance', '/SipCluster/Node0');
    sipLogGroup = String(resourceAt(site, 'aws_cloudwatch_log_group', '/SipCluster/LogGroup')[1].name);
    nodeAddress = hostInCidr(String(referenced(site, node.subnet_id).cidr_block), 20);
    const input: SipNodeBootInput = {
      userDataFile: path.join(scratch, 'sip-node.user-data'),
      privateIp: nodeAddress,
      publicIp: '127.203.0.20',
      rpcPort: resolveKamailioSettings().rpcPort,
      rpcToken: rpcTokenOf(site, RPC_TOKEN),
    };
    writeFileSync(input.userDataFile, template.raw);
    report = await runInInstanceNamespace<SipNodeBootReport>(path.join(PROBES, 'sip-node-boot-probe.ts'), [writeInput(scratch, 'sip-node', input)], 120_000);
    const unset = { ...input, rpcToken: rpcTokenOf(site, undefined) };
    withoutToken = await runInInstanceNamespace<SipNodeBootReport>(path.join(PROBES, 'sip-node-boot-probe.ts'), [writeInput(scratch, 'sip-node-no-token', unset)], 120_000);
  }, 300_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('runs every cloud-init stage cleanly and (re)starts Kamailio through its unit', () => {
    expect(stageOutcomes(report.stages)).toEqual(BOOT_STAGES);
    expect(report.systemctl).toEqual(['enable kamailio', 'restart kamailio']);
  });

  it("configures the CloudWatch agent to ship Kamailio's log and the boot's output to the SIP nodes' log group; the boot goes on without the agent", () => {
    expect(report.cloudWatchAgentConfig).toEqual(agentConfigShipping(sipLogGroup, ['/var/log/kamailio/kamailio.log', '/var/log/cloud-init-output.log']));
    expect(bootOutput(report)).toContain('voiceplane: log shipping: cannot download the CloudWatch agent from https://amazoncloudwatch-agent-');
  });

  it('leaves a Kamailio configuration that passes `kamailio -c` with the unit\'s environment', () => {
    expect(report.nodeEnvironment).toContain(`VOICEPLANE_SIP_NODE_ADDRESS=${nodeAddress}`);
    expect(report.nodeEnvironment).toContain('VOICEPLANE_SIP_PUBLIC_ADDRESS=127.203.0.20');
    expect(report.configCheck).toEqual({ status: 0, output: expect.stringMatching(/config file ok/) });
  });

  it('runs Kamailio as its own user, its RPC socket listening on the node\'s address', () => {
    expect(report.kamailioUser).toBe('kamailio');
    expect(report.rpcListening).toBe(true);
  });

  it("reads the RPC token from the site's secret into a file only Kamailio can read; RPC answers only with it", () => {
    expect(report.secretsManagerCalls).toEqual([expect.objectContaining({ operation: 'GetSecretValue', secretId: 'acme-west-sip-rpc-token', accessKeyId: 'ASIACONTRACTTEST0002' })]);
    expect(report.rpcTokenFile).toEqual({ mode: '400', owner: 'kamailio' });
    expect(report.rpcStatus).toEqual({ withToken: 200, withoutToken: 401 });
  });

  it('fails closed when the RPC token secret has no value: the boot stops, Kamailio is neither enabled nor started', () => {
    expect(withoutToken.stages.map(({ output }) => output).join('\n')).toContain('cannot read the RPC token secret acme-west-sip-rpc-token; Kamailio not started');
    expect(withoutToken.systemctl).toEqual([]);
    expect(withoutToken.kamailioUser).toBe('');
    expect(withoutToken.rpcTokenFile).toBeUndefined();
    expect(withoutToken.rpcListening).toBe(false);
  });
});

(canBoot && sipTools ? describe : describe.skip)('a SIP node of a site whose voice connector requires encryption, booting its synthesized user data', () => {
  const settings = resolveKamailioSettings();
  const scratch = mkdtempSync(path.join(tmpdir(), 'voiceplane-user-data-tls-'));
  let withCertificate: SipNodeBootReport;
  let withoutCertificate: SipNodeBootReport;

  beforeAll(async () => {
    const siteName = siteStackName('acme', 'west');
    const site = stacksOf(loopbackTopology(['west']))[siteName];
    const template = launchTemplateAt(siteName, site, '/SipCluster/LaunchTemplate');
    const [, node] = resourceAt(site, 'aws_instance', '/SipCluster/Node0');
    const [, secret] = resourceAt(site, 'aws_secretsmanager_secret', '/SipCluster/TlsCertificate');
    const base = {
      userDataFile: path.join(scratch, 'sip-node-tls.user-data'),
      privateIp: hostInCidr(String(referenced(site, node.subnet_id).cidr_block), 20),
      publicIp: '127.203.0.21',
      rpcPort: settings.rpcPort,
      rpcToken: rpcTokenOf(site, RPC_TOKEN),
    };
    writeFileSync(base.userDataFile, template.raw);
    const tls = { secretName: String(secret.name), region: String(site.provider.aws[0].region), port: settings.tlsPort, path: settings.tlsCertificatePath };
    const boot = (name: string, putValue: boolean) =>
      runInInstanceNamespace<SipNodeBootReport>(path.join(PROBES, 'sip-node-boot-probe.ts'), [writeInput(scratch, name, { ...base, tls: { ...tls, putValue } } satisfies SipNodeBootInput)], 120_000);
    withCertificate = await boot('sip-node-tls', true);
    withoutCertificate = await boot('sip-node-tls-missing', false);
  }, 300_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("reads the certificate from the site's secret into a file only Kamailio can read, and takes TLS with it", () => {
    expect(stageOutcomes(withCertificate.stages)).toEqual(BOOT_STAGES);
    expect(withCertificate.secretsManagerCalls).toEqual([
      expect.objectContaining({ operation: 'GetSecretValue', secretId: 'acme-west-sip-rpc-token' }),
      expect.objectContaining({ operation: 'GetSecretValue', secretId: 'acme-west-sip-tls-certificate', accessKeyId: 'ASIACONTRACTTEST0002' }),
    ]);
    expect(withCertificate.certificateFile).toEqual({ mode: '400', owner: 'kamailio' });
    expect(withCertificate.configCheck).toEqual({ status: 0, output: expect.stringMatching(/config file ok/) });
    expect(withCertificate.kamailioUser).toBe('kamailio');
    expect(withCertificate.tlsHandshake).toBe('ok');
  });

  it('fails closed when the secret has no value: the boot stops, Kamailio is neither enabled nor started', () => {
    expect(withoutCertificate.stages.map(({ output }) => output).join('\n')).toContain('cannot read the TLS certificate secret acme-west-sip-tls-certificate; Kamailio not started');
    expect(withoutCertificate.secretsManagerCalls).toEqual([
      expect.objectContaining({ operation: 'GetSecretValue', secretId: 'acme-west-sip-rpc-token' }),
      expect.objectContaining({ operation: 'GetSecretValue', secretId: 'acme-west-sip-tls-certificate' }),
    ]);
    expect(withoutCertificate.systemctl).toEqual([]);
    expect(withoutCertificate.kamailioUser).toBe('');
    expect(withoutCertificate.certificateFile).toBeUndefined();
    expect(withoutCertificate.tlsHandshake).toMatch(/^failed: /);
  });
});
