import { renderCallControlDialplan } from '../dialplan';
import { renderXml, type XmlElement, xmlElement } from '../dialplan/xml-document';
import { MEDIA_SERVER_DIALPLAN_CONTEXT, type MediaServerSettings, type MediaServerSettingsInput, parseMediaServerSettings } from './media-server-settings';
import { renderSipProfile, SIP_PROFILE_NAME } from './sip-profile';
import { configuration, param, preProcess, preProcessorVariable, settings } from './xml-config';

/**
 * The complete FreeSWITCH configuration of a media server: every file of its configuration directory, by path
 * relative to it. Nothing of a stock configuration is needed or wanted: no directory users, no modules we do not use,
 * one SIP profile (the SIP cluster's), one event socket, the call-control dialplan. Two files are written on the
 * host at boot because they hold what synth must not know: {@link HOST_VARIABLES_FILE} (the public address RTP is
 * announced on) and {@link SECRETS_FILE} (the event socket password).
 */
export type MediaServerConfigFiles = Readonly<Record<string, string>>;

export const MAIN_CONFIG_FILE = 'freeswitch.xml';
/** Written at boot: `voiceplane_public_ip`, the Elastic IP carriers send RTP to. See {@link renderHostVariables}. */
export const HOST_VARIABLES_FILE = 'voiceplane-host.xml';
/** Written at boot, readable by FreeSWITCH only: `voiceplane_esl_password`. See {@link renderSecretsInclude}. */
export const SECRETS_FILE = 'voiceplane-secrets.xml';
export const PUBLIC_IP_VARIABLE = 'voiceplane_public_ip';
export const ESL_PASSWORD_VARIABLE = 'voiceplane_esl_password';
/** The log file FreeSWITCH writes in its log directory (mod_logfile's default name: a relative name would follow the working directory). */
export const LOG_FILE = 'freeswitch.log';

const ESL_ACL = 'voiceplane_esl';
const SIP_CLUSTER_ACL = 'voiceplane_sip_cluster';

/** Only what the media server runs: logging, the event socket, SIP, the dialplan and the applications it uses. */
export const MEDIA_SERVER_MODULES = [
  'mod_logfile',
  'mod_event_socket',
  'mod_commands',
  'mod_dptools',
  'mod_db',
  'mod_hash',
  // The draw that splits new calls by the route table's shares (`expr` with randomize/rand).
  'mod_expr',
  'mod_dialplan_xml',
  'mod_sofia',
] as const;

export function renderMediaServerConfig(input: MediaServerSettingsInput): MediaServerConfigFiles {
  const config = parseMediaServerSettings(input);
  return {
    [MAIN_CONFIG_FILE]: xmlDocument(mainDocument(config)),
    'autoload_configs/modules.conf.xml': xmlDocument(modulesConfig()),
    'autoload_configs/switch.conf.xml': xmlDocument(switchConfig(config)),
    'autoload_configs/logfile.conf.xml': xmlDocument(logfileConfig(config)),
    'autoload_configs/event_socket.conf.xml': xmlDocument(eventSocketConfig(config)),
    'autoload_configs/acl.conf.xml': xmlDocument(aclConfig(config)),
    'autoload_configs/sofia.conf.xml': xmlDocument(sofiaConfig()),
    'autoload_configs/db.conf.xml': xmlDocument(configuration('db', 'Core db values (route table)', [settings({})])),
    'autoload_configs/hash.conf.xml': xmlDocument(configuration('hash', 'In-memory values (route table, call counts)', [xmlElement('remotes')])),
    [`sip_profiles/${SIP_PROFILE_NAME}.xml`]: xmlDocument(
      include([renderSipProfile(config, { inboundAcl: SIP_CLUSTER_ACL, publicIpVariable: preProcessorVariable(PUBLIC_IP_VARIABLE) })]),
    ),
    'dialplan/voiceplane_call_control.xml': renderCallControlDialplan({ context: MEDIA_SERVER_DIALPLAN_CONTEXT }),
  };
}

/** {@link HOST_VARIABLES_FILE}: the address FreeSWITCH announces for RTP (the Elastic IP; loopback for local runs). */
export function renderHostVariables(publicIp: string): string {
  return xmlDocument(include([preProcess('set', `${PUBLIC_IP_VARIABLE}=${publicIp}`)]));
}

/** {@link SECRETS_FILE}: the event socket password, for local runs (on AWS the boot script writes it from Secrets Manager). */
export function renderSecretsInclude(eslPassword: string): string {
  if (!/^[A-Za-z0-9._~+=-]{8,128}$/.test(eslPassword)) {
    throw new Error('the ESL password must be 8-128 letters, digits or ._~+=-');
  }
  return xmlDocument(include([preProcess('set', `${ESL_PASSWORD_VARIABLE}=${eslPassword}`)]));
}

function xmlDocument(root: XmlElement): string {
  return `<?xml version="1.0"?>\n${renderXml(root)}`;
}

function include(children: readonly XmlElement[]): XmlElement {
  return xmlElement('include', {}, children);
}

/** SDES suites offered and accepted with `srtp`, strongest first (AES_CM_128_HMAC_SHA1_80 is what SIP trunks offer). */
const SRTP_SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

function mainDocument(config: MediaServerSettings): XmlElement {
  return xmlElement('document', { type: 'freeswitch/xml' }, [
    preProcess('include', HOST_VARIABLES_FILE),
    preProcess('include', SECRETS_FILE),
    // Channel defaults (global variables): a call whose media stops for 5 minutes (30 on hold) is over, the far end
    // went away without a BYE. The SIP profile's rtp-timeout-sec is deprecated for these.
    preProcess('set', 'media_timeout=300000'),
    preProcess('set', 'media_hold_timeout=1800000'),
    // Every call arrives from the SIP cluster (inbound), and FreeSWITCH settles SRTP when it reads the INVITE's offer,
    // before any dialplan runs: only a channel default applies in time. Unset, inbound calls would take SRTP if offered.
    preProcess('set', `rtp_secure_media_inbound=${config.srtp ? `mandatory:${SRTP_SUITES.join(':')}` : 'forbidden'}`),
    xmlElement('section', { name: 'configuration', description: 'Modules' }, [preProcess('include', 'autoload_configs/*.xml')]),
    xmlElement('section', { name: 'dialplan', description: 'Call routing' }, [preProcess('include', 'dialplan/*.xml')]),
  ]);
}

function modulesConfig(): XmlElement {
  return configuration('modules', 'Modules', [xmlElement('modules', {}, MEDIA_SERVER_MODULES.map((module) => xmlElement('load', { module })))]);
}

function switchConfig(config: MediaServerSettings): XmlElement {
  return configuration('switch', 'Core', [
    settings({
      switchname: config.mediaServerId,
      'colorize-console': false,
      loglevel: config.logLevel,
      'max-sessions': config.maxSessions,
      'sessions-per-second': config.sessionsPerSecond,
      'rtp-start-port': config.rtpPorts.from,
      'rtp-end-port': config.rtpPorts.to,
      'dump-cores': 'no',
      'min-idle-cpu': config.minIdleCpuPercent,
    }),
  ]);
}

function logfileConfig(config: MediaServerSettings): XmlElement {
  const levels = ['debug', 'info', 'notice', 'warning', 'err', 'crit', 'alert'];
  return configuration('logfile', 'File logging', [
    settings({ 'rotate-on-hup': true }),
    xmlElement('profiles', {}, [
      xmlElement('profile', { name: 'default' }, [
        settings({ rollover: 10 * 1024 * 1024, 'maximum-rotate': 10, uuid: true }),
        xmlElement('mappings', {}, [xmlElement('map', { name: 'all', value: levels.slice(levels.indexOf(config.logLevel)).join(',') })]),
      ]),
    ]),
  ]);
}

function eventSocketConfig(config: MediaServerSettings): XmlElement {
  return configuration('event_socket', 'Event socket', [
    settings({
      'nat-map': false,
      'listen-ip': config.listenIp,
      'listen-port': config.eslPort,
      password: preProcessorVariable(ESL_PASSWORD_VARIABLE),
      'apply-inbound-acl': ESL_ACL,
    }),
  ]);
}

function aclConfig(config: MediaServerSettings): XmlElement {
  const list = (name: string, cidrs: readonly string[]) =>
    xmlElement('list', { name, default: 'deny' }, cidrs.map((cidr) => xmlElement('node', { type: 'allow', cidr })));
  return configuration('acl', 'Network lists', [
    // The media server itself too: its own tools (the boot's route seeding, an operator's fs_cli) connect to the
    // listen address from that same address.
    xmlElement('network-lists', {}, [list(ESL_ACL, [`${config.listenIp}/32`, ...config.eslAllowedCidrs]), list(SIP_CLUSTER_ACL, config.sipAllowedCidrs)]),
  ]);
}

function sofiaConfig(): XmlElement {
  return configuration('sofia', 'SIP', [
    xmlElement('global_settings', {}, [param('log-level', 0), param('debug-presence', 0), param('auto-restart', false)]),
    // Nested includes resolve relative to the including file.
    xmlElement('profiles', {}, [preProcess('include', '../sip_profiles/*.xml')]),
  ]);
}
