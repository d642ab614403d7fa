import { createServer, type Server } from 'https';
import type { IncomingMessage, ServerResponse } from 'http';
import { z } from 'zod';

/** One call the stand-in answered, for assertions: which operation, on which secret, signed for which region and key. */
export interface SecretsManagerCall {
  readonly operation: string;
  readonly secretId: string;
  readonly region?: string;
  readonly accessKeyId?: string;
  readonly clientRequestToken?: string;
}

const requestSchema = z.object({ SecretId: z.string(), SecretString: z.string().optional(), ClientRequestToken: z.string().optional() });
/** `Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...` */
const CREDENTIAL_SCOPE = /Credential=([^/]+)\/\d{8}\/([^/]+)\/secretsmanager\/aws4_request/;

interface SecretVersion {
  readonly versionId: string;
  readonly value: string;
}

/**
 * AWS Secrets Manager's JSON protocol (GetSecretValue, PutSecretValue) for one secret (and optionally more), over HTTPS
 * with the given certificate: the real AWS CLI talks to it unchanged once its endpoint's host name resolves here and
 * its CA bundle trusts the certificate. A secret starts without a value, as Terraform creates it, unless one is given
 * (one put out of band).
 */
export class SecretsManagerStandIn {
  readonly calls: SecretsManagerCall[] = [];
  private readonly versions = new Map<string, SecretVersion | undefined>();

  private constructor(
    private readonly server: Server,
    private readonly secretName: string,
  ) {}

  /** `furtherSecrets`: other secrets by name, each with its value or undefined (none put). */
  static async start(options: {
    secretName: string;
    host: string;
    port: number;
    key: string;
    cert: string;
    value?: string;
    furtherSecrets?: Readonly<Record<string, string | undefined>>;
  }): Promise<SecretsManagerStandIn> {
    const server = createServer({ key: options.key, cert: options.cert });
    const standIn = new SecretsManagerStandIn(server, options.secretName);
    for (const [name, value] of [[options.secretName, options.value] as const, ...Object.entries(options.furtherSecrets ?? {})]) {
      standIn.versions.set(name, value === undefined ? undefined : { versionId: 'put-out-of-band', value });
    }
    server.on('request', (request, response) => standIn.receive(request, response));
    await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
    return standIn;
  }

  /** The value of the first secret. */
  get value(): string | undefined {
    return this.versions.get(this.secretName)?.value;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private receive(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const [status, body] = this.answer(request, Buffer.concat(chunks).toString('utf8'));
      response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
    });
  }

  private answer(request: IncomingMessage, text: string): [number, object] {
    const operation = String(request.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, '');
    let parsed: z.infer<typeof requestSchema>;
    try {
      parsed = requestSchema.parse(JSON.parse(text));
    } catch {
      return error('ValidationException', 'request body is not a secret request');
    }
    const scope = CREDENTIAL_SCOPE.exec(String(request.headers.authorization ?? ''));
    this.calls.push({ operation, secretId: parsed.SecretId, accessKeyId: scope?.[1], region: scope?.[2], clientRequestToken: parsed.ClientRequestToken });
    if (!scope) return [403, { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' }];
    const name = parsed.SecretId;
    if (!this.versions.has(name)) return error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    const current = this.versions.get(name);
    const secret = { ARN: `arn:aws:secretsmanager:${scope[2]}:111122223333:secret:${name}-AbCdEf`, Name: name };
    if (operation === 'GetSecretValue') {
      if (!current) return error('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
      return [200, { ...secret, VersionId: current.versionId, SecretString: current.value, VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 }];
    }
    if (operation === 'PutSecretValue') {
      if (parsed.SecretString === undefined || parsed.ClientRequestToken === undefined) return error('InvalidParameterException', 'SecretString and ClientRequestToken are required here');
      if (current?.versionId === parsed.ClientRequestToken && current.value !== parsed.SecretString) {
        return error('ResourceExistsException', 'You can\'t modify an existing version, you can only create a new version.');
      }
      const version = { versionId: parsed.ClientRequestToken, value: parsed.SecretString };
      this.versions.set(name, version);
      return [200, { ...secret, VersionId: version.versionId, VersionStages: ['AWSCURRENT'] }];
    }
    return error('UnknownOperationException', `operation ${operation} is not served by this stand-in`);
  }
}

function error(type: string, message: string): [number, object] {
  return [400, { __type: type, message }];
}
