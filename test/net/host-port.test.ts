import { hostPortSchema, splitHostPort } from '../../runtime/net/host-port';
import { parseIpv4 } from '../../runtime/net/ipv4';

describe('HOST:PORT', () => {
  it('splits a host name or address and a decimal port', () => {
    expect(splitHostPort('10.1.128.10:8021')).toEqual({ host: '10.1.128.10', port: 8021 });
    expect(splitHostPort('cds.west.internal:7070')).toEqual({ host: 'cds.west.internal', port: 7070 });
    expect(['10.1.128.10', ':8021', 'http://x:1', 'a:b', 'a:123456', 'a b:1'].map(splitHostPort)).toEqual(Array(6).fill(undefined));
  });

  it('checks the port range the option asks for, with its own messages', () => {
    const listen = hostPortSchema({ syntax: 'must be HOST:PORT', range: 'port must be 0-65535' });
    const target = hostPortSchema({ syntax: 'expected HOST:PORT', range: 'port out of range' }, 1);
    expect(listen.parse('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(listen.safeParse('0.0.0.0:65536').error?.issues[0].message).toBe('port must be 0-65535');
    expect(target.safeParse('10.0.0.1:0').error?.issues[0].message).toBe('port out of range');
    expect(target.safeParse('10.0.0.1').error?.issues[0].message).toBe('expected HOST:PORT');
  });
});

describe('IPv4 addresses', () => {
  it('are dotted decimal without leading zeros, which some readers take for octal', () => {
    expect(parseIpv4('10.1.0.255')).toBe(0x0a0100ff);
    expect(['010.1.0.1', '10.1.0.256', '10.1.0', '1.2.3.4.5'].map(parseIpv4)).toEqual(Array(4).fill(undefined));
  });
});
