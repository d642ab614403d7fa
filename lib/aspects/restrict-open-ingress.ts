import { IConstruct } from 'constructs';
import { IAspect, Token } from 'cdktf';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { parseCidr } from '../../runtime/net/ipv4';
import { RTP_PORTS, SIP_PORT } from '../ports';

/** The only ports a security group may open to the whole internet: SIP and RTP. */
const OPEN_PORTS_ALLOWED = [
  { protocols: ['udp', 'tcp'], from: SIP_PORT, to: SIP_PORT },
  { protocols: ['udp'], from: RTP_PORTS.from, to: RTP_PORTS.to },
];

/** An IPv4 network wider than a /8, or an IPv6 one wider than a /16, is taken as "the internet". */
const WIDEST_IPV4_PREFIX = 8;
const WIDEST_IPV6_PREFIX = 16;

interface IngressSpec {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidrs: readonly (string | undefined)[];
}

/**
 * Fails synthesis when an ingress rule — a `VpcSecurityGroupIngressRule`, an ingress
 * `SecurityGroupRule` or an inline `ingress` block of a `SecurityGroup` — admits the internet
 * (0.0.0.0/0, ::/0 or any network wider than a /8 or an IPv6 /16) anywhere but SIP and RTP.
 */
export class RestrictOpenIngress implements IAspect {
  public visit(node: IConstruct): void {
    const specs = ingressSpecs(node);
    if (specs === undefined) return;
    node.node.addValidation({ validate: () => specs().flatMap((spec) => violations(node.node.path, spec)) });
  }
}

function ingressSpecs(node: IConstruct): (() => IngressSpec[]) | undefined {
  if (node instanceof VpcSecurityGroupIngressRule) {
    return () => [{ protocol: node.ipProtocolInput ?? '', fromPort: node.fromPortInput ?? -1, toPort: node.toPortInput ?? -1, cidrs: [node.cidrIpv4Input, node.cidrIpv6Input] }];
  }
  if (node instanceof SecurityGroupRule) {
    return () =>
      node.typeInput === 'ingress'
        ? [{ protocol: node.protocolInput ?? '', fromPort: node.fromPortInput ?? -1, toPort: node.toPortInput ?? -1, cidrs: [...(node.cidrBlocksInput ?? []), ...(node.ipv6CidrBlocksInput ?? [])] }]
        : [];
  }
  if (node instanceof SecurityGroup) {
    return () => {
      const blocks = node.ingressInput;
      if (blocks === undefined || !Array.isArray(blocks)) return [];
      return blocks.map((block) => ({ protocol: block.protocol ?? '', fromPort: block.fromPort ?? -1, toPort: block.toPort ?? -1, cidrs: [...(block.cidrBlocks ?? []), ...(block.ipv6CidrBlocks ?? [])] }));
    };
  }
  return undefined;
}

function violations(path: string, spec: IngressSpec): string[] {
  const protocol = spec.protocol === '-1' ? 'all' : spec.protocol;
  const allowed = OPEN_PORTS_ALLOWED.some((rule) => rule.protocols.includes(protocol) && spec.fromPort >= rule.from && spec.toPort <= rule.to);
  if (allowed) return [];
  return spec.cidrs
    .filter((cidr): cidr is string => cidr !== undefined && !Token.isUnresolved(cidr) && isInternetWide(cidr))
    .map(
      (cidr) =>
        `ingress rule ${path} opens ${protocol} ${spec.fromPort}-${spec.toPort} to ${cidr}; only SIP (${SIP_PORT}) and RTP (${RTP_PORTS.from}-${RTP_PORTS.to}/udp) may be open to the internet`,
    );
}

function isInternetWide(cidr: string): boolean {
  if (cidr.includes(':')) {
    const prefix = Number(cidr.split('/')[1] ?? 128);
    return prefix < WIDEST_IPV6_PREFIX;
  }
  const parsed = parseCidr(cidr);
  // A malformed IPv4 network is refused elsewhere; here only what is certainly wide counts.
  return parsed !== undefined && parsed.prefix < WIDEST_IPV4_PREFIX;
}
