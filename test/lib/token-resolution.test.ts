import { Fn, Lazy, TerraformStack, Testing } from 'cdktf';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { longTextToken } from '../../lib/long-text-token';
import { resolvedOnce } from '../../lib/resolved-once';

/** The Terraform JSON of a stack that `build` fills. */
function synthesized(build: (stack: TerraformStack) => void): unknown {
  const stack = new TerraformStack(Testing.app(), 'stack');
  build(stack);
  return JSON.parse(Testing.synth(stack));
}

describe('longTextToken', () => {
  const dashboard = (wrap: (body: string) => string) =>
    synthesized((stack) => {
      const tables = [0, 1, 2].map((index) => new RouteTable(stack, `table${index}`, { vpcId: 'vpc-1' }));
      const body = JSON.stringify({
        widgets: tables.map((table, index) => ({ type: 'metric', x: index, properties: { metrics: [['AWS/X', 'M', 'Id', table.id, { label: `${table.id} ${table.arn}` }]], annotations: {} } })),
      });
      new CloudwatchDashboard(stack, 'dashboard', { dashboardName: 'd', dashboardBody: wrap(body) });
    });

  it('resolves a text with tokens to what CDKTF makes of the text itself', () => {
    const resolved = dashboard(longTextToken);
    expect(resolved).toEqual(dashboard((body) => body));
    expect(JSON.stringify(resolved)).toContain('${aws_route_table.table2.id} ${aws_route_table.table2.arn}');
  });

  it('leaves a text without tokens as it is', () => {
    expect(longTextToken('{"widgets":[]}')).toBe('{"widgets":[]}');
  });
});

describe('resolvedOnce', () => {
  it('works its value out once however many attributes use it, and gives each the same text', () => {
    let produced = 0;
    const value = resolvedOnce(Lazy.stringValue({ produce: () => `rtb-${++produced}` }));
    const tf = synthesized((stack) => {
      for (const id of ['a', 'b', 'c']) new Route(stack, id, { routeTableId: value, destinationCidrBlock: '10.0.0.0/16' });
    }) as { resource: { aws_route: Record<string, { route_table_id: string }> } };
    // A value produced afresh at every use would differ from one route to the next.
    const ids = Object.values(tf.resource.aws_route).map((route) => route.route_table_id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^rtb-\d$/);
  });

  it('resolves an expression of references as the expression itself does', () => {
    const routes = (wrap: (value: string) => string) =>
      synthesized((stack) => {
        const ids = [0, 1].map((index) => new RouteTable(stack, `table${index}`, { vpcId: 'vpc-1' }).id);
        new Route(stack, 'route', { routeTableId: wrap(Fn.element(ids, 1)), destinationCidrBlock: '10.0.0.0/16' });
      });
    expect(routes(resolvedOnce)).toEqual(routes((value) => value));
    expect(JSON.stringify(routes(resolvedOnce))).toContain('${element([aws_route_table.table0.id, aws_route_table.table1.id], 1)}');
  });
});
