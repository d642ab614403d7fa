/** Regions where Amazon Chime SDK Voice Connectors can be created. */
export const VOICE_CONNECTOR_REGIONS: readonly string[] = [
  'us-east-1', 'us-west-2', 'ca-central-1', 'eu-central-1', 'eu-west-1', 'eu-west-2',
  'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1', 'ap-southeast-2',
];

/** A voice connector's termination allow-list takes /27 to /32 networks only. */
export const MIN_TERMINATION_CIDR_PREFIX = 27;
