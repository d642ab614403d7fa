import { Construct } from 'constructs';
import { DataTerraformRemoteStateLocal, DataTerraformRemoteStateS3, LocalBackend, S3Backend, TerraformRemoteState, TerraformStack } from 'cdktf';
import { S3StateBackend, StateBackend } from '../lib';

/** The S3 key of a stack's state: one key per stack, under the configured prefix. */
export function stateKey(backend: S3StateBackend, stackName: string): string {
  return `${backend.keyPrefix}/${stackName}.tfstate`;
}

function localStateFile(stackName: string): string {
  return `terraform.${stackName}.tfstate`;
}

/** Keeps `stack`'s state in the backend: in S3 encrypted and locked with a lock file beside it (no DynamoDB table). */
export function storeStackState(stack: TerraformStack, stackName: string, backend: StateBackend): void {
  if (backend.kind === 'local') {
    new LocalBackend(stack, { path: localStateFile(stackName) });
    return;
  }
  new S3Backend(stack, { bucket: backend.bucket, key: stateKey(backend, stackName), region: backend.region, encrypt: true });
  // cdktf 0.21 predates Terraform's S3 lock file (1.10), so its S3Backend has no property for it.
  stack.addOverride('terraform.backend.s3.use_lockfile', true);
}

/** Reads the outputs of another stack of the platform from its state in the same backend. */
export function readStackState(scope: Construct, id: string, stackName: string, backend: StateBackend): TerraformRemoteState {
  if (backend.kind === 'local') {
    // Stack directories are siblings in the synth output.
    return new DataTerraformRemoteStateLocal(scope, id, { path: `../${stackName}/${localStateFile(stackName)}` });
  }
  return new DataTerraformRemoteStateS3(scope, id, { bucket: backend.bucket, key: stateKey(backend, stackName), region: backend.region });
}
