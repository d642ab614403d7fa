import { renderDispatcherList } from './dispatcher-list';
import { renderKamailioConfig } from './kamailio-config';
import { KamailioSettingsInput, resolveKamailioSettings } from './kamailio-settings';
import { SipSite, parseSipSite } from './sip-site';

export const KAMAILIO_CONFIG_FILE = 'kamailio.cfg';
export const DISPATCHER_LIST_FILE = 'dispatcher.list';

export interface SipConfigFiles {
  readonly [KAMAILIO_CONFIG_FILE]: string;
  readonly [DISPATCHER_LIST_FILE]: string;
}

/**
 * The configuration files of every Kamailio node of a site, as the construct installs them and
 * `voiceplane sip config` writes them. `site` is validated here, so any caller gets the same checks.
 */
export function renderSipConfigFiles(site: SipSite, overrides: KamailioSettingsInput = {}): SipConfigFiles {
  const validSite = parseSipSite(site);
  const settings = resolveKamailioSettings(overrides);
  return {
    [KAMAILIO_CONFIG_FILE]: renderKamailioConfig(validSite, settings),
    [DISPATCHER_LIST_FILE]: renderDispatcherList(validSite),
  };
}
