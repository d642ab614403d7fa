import { IConstruct } from 'constructs';
import { DefaultTokenResolver, StringConcat, TerraformElement, TerraformOutput, TerraformStack, Tokenization } from 'cdktf';
import { deepMerge } from 'cdktf/lib/util';

type JsonObject = Record<string, unknown>;

const RESOLVER = new DefaultTokenResolver(new StringConcat());

/** The Terraform elements below `construct`, depth first, not entering nested stacks. */
function terraformElementsBelow(construct: IConstruct): TerraformElement[] {
  return construct.node.children.flatMap((child) => {
    if (TerraformStack.isStack(child)) return [];
    return [...(TerraformElement.isTerraformElement(child) ? [child] : []), ...terraformElementsBelow(child)];
  });
}

/** `{ a: { b: value } }` for the path `a/b`. */
function nestedAt(path: readonly string[], value: unknown): JsonObject {
  return path.reduceRight<unknown>((inner, part) => ({ [part]: inner }), value) as JsonObject;
}

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

  /**
   * The stack's Terraform JSON, as TerraformStack.toTerraform builds it (test/lib/self-contained-stack.test.ts holds
   * them equal) less its last step: CDKTF resolves every element, merges them, then resolves the whole merged document
   * again, which finds nothing left to resolve but where the stack's own overrides went (a tenth of a large synth).
   */
  public override toTerraform(): JsonObject {
    const resolve = (value: unknown) => Tokenization.resolve(value, { scope: this, preparing: false, resolver: RESOLVER }) as JsonObject;
    // What addOverride on the stack recorded (TerraformStack keeps it private).
    const overrides = (this as unknown as { readonly rawOverrides: JsonObject }).rawOverrides;
    const elements = terraformElementsBelow(this);
    const metadata: JsonObject = {
      version: this.node.tryGetContext('cdktfVersion'),
      stackName: this.node.id,
      backend: 'local',
      ...(Object.keys(overrides).length > 0 ? { overrides: { stack: Object.keys(overrides) } } : {}),
    };
    for (const element of elements) deepMerge(metadata, resolve(element.toMetadata()));
    const outputs: JsonObject = {};
    for (const output of elements.filter(TerraformOutput.isTerraformOutput)) deepMerge(outputs, nestedAt(output.node.path.split('/'), output.friendlyUniqueId));
    const tf: JsonObject = { '//': { metadata, outputs } };
    for (const element of elements) deepMerge(tf, resolve(element.toTerraform()));
    deepMerge(tf, overrides);
    for (const key of Object.keys(overrides)) tf[key] = resolve(tf[key]);
    return tf;
  }

  /**
   * Lets go of every construct of this stack once it is synthesized, so that what it built can be collected: the
   * stack is then empty, and the constructs it exposes are gone (reading one throws).
   */
  public release(): void {
    for (const child of [...this.node.children]) this.node.tryRemoveChild(child.node.id);
  }

  /** `built` of this stack, or an error saying the stack was released. */
  protected unlessReleased<T>(built: T | undefined): T {
    if (built === undefined) throw new Error(`stack ${this.node.id}: its constructs were released after it was synthesized`);
    return built;
  }
}
