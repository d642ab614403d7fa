/**
 * The boot scripts' line that sets `$imds` to the instance metadata service's base URL: EC2's, unless
 * AWS_EC2_METADATA_SERVICE_ENDPOINT names another (the variable the AWS CLI honours too; e.g. the IPv6 endpoint on an
 * IPv6-only subnet, or a test's stand-in on loopback).
 */
export const IMDS_ENDPOINT_LINE = 'imds="${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}"; imds="${imds%/}/latest"';
