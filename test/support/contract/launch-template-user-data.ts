import { gunzipSync } from 'zlib';

/** The user data of one synthesized launch template, as EC2 hands it to cloud-init and as cloud-init reads it. */
export interface LaunchTemplateUserData {
  readonly stack: string;
  /** Terraform resource name of the launch template. */
  readonly resource: string;
  /** The bytes EC2 passes to the instance (the template's `user_data`, base64-decoded). */
  readonly raw: Buffer;
  /** What cloud-init processes: `raw`, gunzipped when compressed. */
  readonly cloudConfig: string;
}

interface StackJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Every launch template's user data in a synthesized stack (`cdk.tf.json`), decoded as cloud-init decodes it. */
export function launchTemplateUserData(stack: string, json: StackJson): LaunchTemplateUserData[] {
  return Object.entries(json.resource?.aws_launch_template ?? {}).map(([resource, template]) => {
    if (typeof template.user_data !== 'string') throw new Error(`${stack}: launch template ${resource} has no literal user_data`);
    const raw = Buffer.from(template.user_data, 'base64');
    const compressed = raw[0] === GZIP_MAGIC[0] && raw[1] === GZIP_MAGIC[1];
    const cloudConfig = (compressed ? gunzipSync(raw) : raw).toString('utf8');
    // A MIME multipart or a shell script would need their own checks: fail loudly rather than check the wrong thing.
    if (!cloudConfig.startsWith('#cloud-config\n')) {
      throw new Error(`${stack}: launch template ${resource} carries user data these contract tests do not know: ${JSON.stringify(cloudConfig.slice(0, 40))}`);
    }
    return { stack, resource, raw, cloudConfig };
  });
}
