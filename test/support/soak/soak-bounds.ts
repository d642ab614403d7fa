/**
 * Resident memory one `cds serve` process (compiled, as the image runs it, with its DynamoDB elsewhere) stays under
 * while the soak drives valid calls and junk at it; the README states the same bound.
 */
export const CDS_SOAK_RSS_BOUND_BYTES = 256 * 1024 * 1024;
