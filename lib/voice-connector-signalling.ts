/**
 * Networks an Amazon Chime SDK Voice Connector sends SIP from, per region (AWS's published
 * CHIME_VOICECONNECTOR ranges and the SIP signalling subnets of the Chime SDK network requirements).
 * They are the default SIP sources of a site's SIP cluster: its only SIP peer is the site's voice connector.
 */
export const VOICE_CONNECTOR_SIGNALLING_CIDRS: Readonly<Record<string, readonly string[]>> = {
  'us-east-1': ['3.80.16.0/23', '99.77.254.0/24'],
  'us-west-2': ['99.77.253.0/24', '99.77.232.0/24'],
  'ca-central-1': ['99.77.233.0/24'],
  'eu-central-1': ['99.77.247.0/24'],
  'eu-west-1': ['99.77.250.0/24'],
  'eu-west-2': ['99.77.249.0/24'],
  'ap-northeast-1': ['99.77.244.0/24'],
  'ap-northeast-2': ['99.77.242.0/24'],
  'ap-southeast-1': ['99.77.240.0/24'],
  'ap-southeast-2': ['99.77.239.0/24'],
};

/** The voice connector signalling networks of `region`; empty where there is no voice connector. */
export function voiceConnectorSignallingCidrs(region: string): readonly string[] {
  return VOICE_CONNECTOR_SIGNALLING_CIDRS[region] ?? [];
}
