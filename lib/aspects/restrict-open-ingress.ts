import { IConstruct } from 'constructs';
import { IAspect } from 'cdktf';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { RTP_PORTS, SIP_PORT } from '../ports';

/** The only ports a security group may open to the whole internet: SIP and RTP. */
const OPEN_PORTS_ALLOWED = [
  { protocols: ['udp', 'tcp'], from: SIP_PORT, to: SIP_PORT },
  { protocols: ['udp'], from: RTP_PORTS.from, to: RTP_PORTS.to },
];

/** Fails synthesis when an ingress rule admits 0.0.0.0/0 anywhere but SIP and RTP. */
export class RestrictOpenIngress implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof VpcSecurityGroupIngressRule)) return;
    node.node.addValidation({
      validate: () => {
        if (node.cidrIpv4Input !== '0.0.0.0/0') return [];
        const protocol = node.ipProtocolInput ?? '';
        const from = node.fromPortInput ?? -1;
        const to = node.toPortInput ?? -1;
        const allowed = OPEN_PORTS_ALLOWED.some((rule) => rule.protocols.includes(protocol) && from >= rule.from && to <= rule.to);
        return allowed ? [] : [`ingress rule ${node.node.path} opens ${protocol} ${from}-${to} to 0.0.0.0/0; only SIP (${SIP_PORT}) and RTP (${RTP_PORTS.from}-${RTP_PORTS.to}/udp) may be open to the internet`];
      },
    });
  }
}
