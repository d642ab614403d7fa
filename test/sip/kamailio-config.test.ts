import { SipError, SipSite, parseSipSite, renderDispatcherList, renderKamailioConfig, renderSipConfigFiles, resolveKamailioSettings } from '../../runtime/sip';

const site: SipSite = {
  id: 'west',
  mediaServers: [
    { id: 'ms-1', address: '10.1.128.10', port: 5060 },
    { id: 'ms-2', address: '10.1.144.10', port: 5060 },
  ],
};

describe('Kamailio configuration of a site', () => {
  it('lists the media servers in one probed destination set, tagged with site and media-server ids', () => {
    expect(renderDispatcherList(site)).toBe(
      ['# media servers of site west: setid uri flags priority attributes', '1 sip:10.1.128.10:5060 8 0 site=west;ms=ms-1', '1 sip:10.1.144.10:5060 8 0 site=west;ms=ms-2', ''].join('\n'),
    );
  });

  it('uses the production defaults: SIP 5060, media-server side 5070, RPC 5090, 5 s probes, 2 misses, 2 s INVITE timeout', () => {
    const config = renderKamailioConfig(site, resolveKamailioSettings());
    expect(config).toContain('listen=udp:NODE_ADDRESS:5060 advertise PUBLIC_ADDRESS:5060');
    expect(config).toContain('listen=tcp:NODE_ADDRESS:5060 advertise PUBLIC_ADDRESS:5060');
    expect(config).toContain('listen=udp:NODE_ADDRESS:5070 name "media-servers"');
    expect(config).toContain('listen=tcp:NODE_ADDRESS:5090');
    expect(config).toContain('modparam("dispatcher", "ds_ping_interval", 5)');
    expect(config).toContain('modparam("dispatcher", "ds_probing_threshold", 2)');
    expect(config).toContain('modparam("tm", "fr_timer", 2000)');
    expect(config).toContain('modparam("dispatcher", "list_file", "/etc/voiceplane/sip/dispatcher.list")');
    expect(config).toContain('record_route();');
  });

  it('takes TLS on 5061 only for a site with tls, under the same allow-list and rate limit as 5060', () => {
    const plain = renderKamailioConfig(site, resolveKamailioSettings());
    expect(plain).not.toMatch(/tls/i);
    const encrypted = renderKamailioConfig({ ...site, tls: true }, resolveKamailioSettings());
    expect(encrypted).toContain('enable_tls=yes\nlisten=tls:NODE_ADDRESS:5061 advertise PUBLIC_ADDRESS:5061\n');
    expect(encrypted).toContain('loadmodule "tls.so"');
    expect(encrypted).toContain('modparam("tls", "private_key", "/etc/voiceplane/sip/tls/node.pem")');
    expect(encrypted).toContain('modparam("tls", "tls_method", "TLSv1.2+")');
    expect(encrypted).toContain('if ($Rp == 5060 || $Rp == 5061) {\n\t\tif (!pike_check_req()) {');
  });

  it('tries at most maxAttempts media servers per call, and never more than the site has', () => {
    expect(renderKamailioConfig(site, resolveKamailioSettings())).toContain('ds_select_dst("1", "4", "2")');
    const tenServers = parseSipSite({ id: 'big', mediaServers: Array.from({ length: 10 }, (_, index) => ({ id: `ms-${index}`, address: `10.1.128.${10 + index}`, port: 5060 })) });
    expect(renderKamailioConfig(tenServers, resolveKamailioSettings())).toContain('ds_select_dst("1", "4", "3")');
  });

  it('renders the same files for the same site, whoever asks', () => {
    expect(renderSipConfigFiles(site)).toEqual(renderSipConfigFiles(structuredClone(site)));
  });

  it('rejects bad sites and settings with one line naming the field', () => {
    expect(() => parseSipSite({ ...site, mediaServers: [...site.mediaServers, { id: 'ms-1', address: '10.1.128.11', port: 5060 }] })).toThrow(new SipError('SIP site: mediaServers[2].id: duplicate media server id "ms-1"'));
    expect(() => parseSipSite({ ...site, mediaServers: [{ id: 'ms-1', address: '10.1.128.256', port: 5060 }] })).toThrow(new SipError('SIP site: mediaServers[0].address: not an IPv4 address'));
    expect(() => parseSipSite({ id: 'west', mediaServers: [] })).toThrow(new SipError('SIP site: mediaServers: at least one media server is required'));
    expect(() => resolveKamailioSettings({ rpcPort: 5060 })).toThrow(new SipError('Kamailio settings: sipPort, tlsPort, mediaServerFacingPort and rpcPort must differ, got 5060, 5061, 5070, 5060'));
    expect(() => resolveKamailioSettings({ dispatcherListPath: 'dispatcher.list' })).toThrow(/^Kamailio settings: dispatcherListPath: must be an absolute path/);
  });
});
