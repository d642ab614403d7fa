import { randomBytes } from 'crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';

export interface InstanceIdentity {
  readonly localIpv4: string;
  /** The Elastic IP; undefined while none is attached (IMDS then answers 404). */
  readonly publicIpv4?: string;
  /** The instance profile's role: its temporary credentials are served as EC2 serves them. */
  readonly roleName: string;
  readonly accessKeyId: string;
  /** The instance's region (`placement/region`). @default none: IMDS answers 404 */
  readonly region?: string;
}

/**
 * The EC2 instance metadata service on loopback, IMDSv2 only (as the launch templates require: a GET without a
 * session token from PUT /latest/api/token is refused with 401).
 */
export class InstanceMetadataStandIn {
  private readonly tokens = new Set<string>();
  /** Every metadata path read with a valid token, for assertions. */
  readonly reads: string[] = [];

  private constructor(
    private readonly server: Server,
    private readonly identity: InstanceIdentity,
  ) {}

  static async start(identity: InstanceIdentity, host = '127.0.0.1'): Promise<InstanceMetadataStandIn> {
    const server = createServer();
    const standIn = new InstanceMetadataStandIn(server, identity);
    server.on('request', (request, response) => standIn.answer(request, response));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return standIn;
  }

  /** The value of AWS_EC2_METADATA_SERVICE_ENDPOINT that points the AWS CLI and the boot scripts here. */
  get endpoint(): string {
    const { address, port } = this.server.address() as AddressInfo;
    // With the trailing slash: the AWS CLI appends paths to it as given.
    return `http://${address}:${port}/`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const reply = (status: number, body: string): void => {
      response.writeHead(status, { 'Content-Type': 'text/plain' }).end(body);
    };
    const url = request.url ?? '';
    if (url === '/latest/api/token') {
      const ttl = Number(request.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (request.method !== 'PUT' || !Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return reply(400, 'Bad Request');
      const token = randomBytes(24).toString('base64');
      this.tokens.add(token);
      return reply(200, token);
    }
    const token = request.headers['x-aws-ec2-metadata-token'];
    if (typeof token !== 'string' || !this.tokens.has(token)) return reply(401, 'Unauthorized');
    const metadataPath = url.replace(/^\/latest\/meta-data\//, '');
    const value = this.metadata(metadataPath);
    if (value === undefined) return reply(404, 'Not Found');
    this.reads.push(metadataPath);
    return reply(200, value);
  }

  private metadata(metadataPath: string): string | undefined {
    const { identity } = this;
    const credentialsPath = 'iam/security-credentials/';
    if (metadataPath === 'local-ipv4') return identity.localIpv4;
    if (metadataPath === 'public-ipv4') return identity.publicIpv4;
    if (metadataPath === 'placement/region') return identity.region;
    if (metadataPath === credentialsPath) return identity.roleName;
    if (metadataPath === `${credentialsPath}${identity.roleName}`) {
      return JSON.stringify({
        Code: 'Success',
        LastUpdated: new Date().toISOString(),
        Type: 'AWS-HMAC',
        AccessKeyId: identity.accessKeyId,
        SecretAccessKey: randomBytes(30).toString('base64'),
        Token: randomBytes(60).toString('base64'),
        Expiration: new Date(Date.now() + 6 * 3600_000).toISOString(),
      });
    }
    return undefined;
  }
}
