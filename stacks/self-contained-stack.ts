import { TerraformStack } from 'cdktf';

/**
 * A stack built from the topology alone, which reads the other stacks of the platform only through their Terraform
 * state. CDKTF prepares every stack with a whole extra resolution of all its elements just to find tokens of other
 * stacks (cross-stack references, which it turns into outputs and remote-state reads); no token of another stack can
 * reach a stack whose constructor receives only topology data, so that pass is skipped: a third of the resolution
 * work of a synth. Were one to slip in anyway, its stack would reference a resource it does not declare, which
 * `terraform validate` rejects.
 */
export abstract class SelfContainedStack extends TerraformStack {
  public prepareStack(): void {
    this.ensureBackendExists();
  }
}
