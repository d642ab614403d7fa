import { readFileSync } from 'fs';
import * as path from 'path';
import { App, Fn, LocalBackend, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { parseTopology } from '../../lib';
import { generateTopology } from '../../stacks/generate-topology';
import { buildPlatform } from '../../stacks/platform';
import { SelfContainedStack } from '../../stacks/self-contained-stack';

/** What CDKTF's own TerraformStack.toTerraform makes of `stack`. */
function cdktfTerraform(stack: TerraformStack): unknown {
  return TerraformStack.prototype.toTerraform.call(stack);
}

class PlainStack extends SelfContainedStack {}

describe('SelfContainedStack.toTerraform', () => {
  it.each([
    ['the example topology', parseTopology(JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8')))],
    ['a generated topology of 2 data centers and 3 sites', parseTopology(generateTopology({ sites: 3, mediaServersPerSite: 2 }))],
  ])('returns what TerraformStack.toTerraform returns for every stack of %s', (_label, topology) => {
    const platform = buildPlatform(new App(), topology, 'aws');
    for (const stack of [...platform.dataCenterStacks, ...platform.siteStacks]) {
      expect({ stack: stack.node.id, tf: stack.toTerraform() }).toEqual({ stack: stack.node.id, tf: cdktfTerraform(stack) });
    }
  });

  it('resolves tokens the stack\'s own overrides bring, and deletes what a deletion override names', () => {
    const stack = new PlainStack(new App(), 'overridden');
    new LocalBackend(stack, { path: 'state.tfstate' });
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    const vpc = new Vpc(stack, 'vpc', { cidrBlock: '10.0.0.0/16' });
    const size = new TerraformVariable(stack, 'size', { type: 'number', default: 2 });
    new TerraformOutput(stack, 'vpc_id', { value: vpc.id });
    stack.addOverride('locals.vpc_cidr', Fn.cidrsubnet(vpc.cidrBlock, 8, size.numberValue));
    stack.addOverride('terraform.backend.local.workspace_dir', 'states');
    stack.addOverride('variable.size.default', undefined);
    const tf = stack.toTerraform();
    expect(tf).toEqual(cdktfTerraform(stack));
    expect(tf).toMatchObject({
      locals: { vpc_cidr: '${cidrsubnet(aws_vpc.vpc.cidr_block, 8, var.size)}' },
      terraform: { backend: { local: { path: 'state.tfstate', workspace_dir: 'states' } } },
      '//': { metadata: { overrides: { stack: ['locals', 'terraform', 'variable'] } }, outputs: { overridden: { vpc_id: 'vpc_id' } } },
    });
    expect(tf).toHaveProperty('variable.size.type', 'number');
    expect(tf).not.toHaveProperty('variable.size.default');
  });
});
