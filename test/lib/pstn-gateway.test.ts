import { TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { MAX_ORIGINATION_ROUTES, PstnGateway, PstnGatewayProps } from '../../lib';

const props: PstnGatewayProps = {
  name: 'acme-west',
  region: 'us-west-2',
  originationHosts: ['203.0.113.10', '203.0.113.11', '203.0.113.12'],
  terminationCidrAllowList: ['198.51.100.0/28'],
  callingRegions: ['US', 'CA'],
};

function synthesized(gatewayProps: PstnGatewayProps) {
  const stack = new TerraformStack(Testing.app(), 'test');
  new AwsProvider(stack, 'aws', { region: 'us-west-2' });
  const gateway = new PstnGateway(stack, 'Pstn', gatewayProps);
  const resources = JSON.parse(Testing.synth(stack)).resource as Record<string, Record<string, Record<string, unknown>>>;
  const only = (type: string) => Object.values(resources[type])[0];
  return { gateway, only };
}

describe('PstnGateway', () => {
  it('routes calls from the PSTN to every SIP cluster node with equal priority and weight', () => {
    const { only } = synthesized(props);
    expect(only('aws_chime_voice_connector_origination').route).toEqual(props.originationHosts.map((host) => ({ host, port: 5060, protocol: 'TCP', priority: 1, weight: 1 })));
  });

  it("terminates only from the site's carrier allow-list, to its calling regions", () => {
    const { only } = synthesized(props);
    expect(only('aws_chime_voice_connector_termination')).toMatchObject({ cidr_allow_list: ['198.51.100.0/28'], calling_regions: ['US', 'CA'], cps_limit: 1 });
    expect(only('aws_chime_voice_connector')).toMatchObject({ name: 'acme-west', aws_region: 'us-west-2', require_encryption: false });
  });

  it("exposes the connector's host name", () => {
    const { gateway } = synthesized(props);
    expect(gateway.outboundHostName).toMatch(/^\$\{TfToken\[TOKEN\.\d+\]\}$/);
  });

  it('refuses no origination host and more than a voice connector takes', () => {
    expect(() => synthesized({ ...props, originationHosts: [] })).toThrow(`originationHosts must name 1 to ${MAX_ORIGINATION_ROUTES} SIP cluster hosts (a voice connector limit), got 0`);
    const eleven = Array.from({ length: 11 }, (_, index) => `203.0.113.${index + 1}`);
    expect(() => synthesized({ ...props, originationHosts: eleven })).toThrow(`originationHosts must name 1 to ${MAX_ORIGINATION_ROUTES} SIP cluster hosts (a voice connector limit), got 11`);
  });
});
