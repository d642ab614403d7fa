import type { DynamoCall } from './regional-dynamodb';
import type { SynthesizedStack, TableConfig } from './synthesized-stacks';

/** Holding what a process really called against the inline policies synth gave its role. */

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

const list = (value: string | readonly string[]) => (typeof value === 'string' ? [value] : value);

/** The statements of every `aws_iam_role_policy` of the role a resolved `${aws_iam_role.X.arn}` names. */
export function roleStatements(stack: SynthesizedStack, roleArn: string): Statement[] {
  const role = /^unknown:aws_iam_role\.([A-Za-z0-9_-]+)\.arn$/.exec(roleArn)?.[1];
  if (!role) throw new Error(`${roleArn} is not a role of stack ${stack.name}`);
  return stack
    .resources<{ role: string; policy: string }>('aws_iam_role_policy')
    .filter(([, policy]) => new RegExp(`^unknown:aws_iam_role\\.${role}\\.(id|name)$`).test(policy.role))
    .flatMap(([, policy]) => (JSON.parse(policy.policy) as { Statement: Statement[] }).Statement);
}

/** IAM's `StringLike`: `*` any run of characters, `?` one character. */
const stringLike = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's').test(value);

/**
 * Whether a DynamoDB statement's conditions hold for the partition keys a call named on a table. Only
 * `dynamodb:LeadingKeys` with StringEquals/StringLike (optionally ForAllValues:) is understood; any other
 * condition throws rather than pass unchecked.
 */
function dynamoConditionsHold(condition: Statement['Condition'], leadingKeys: readonly string[]): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      const match = { StringEquals: (pattern: string, value: string) => pattern === value, StringLike: stringLike }[operator.replace(/^ForAllValues:/, '')];
      if (key !== 'dynamodb:LeadingKeys' || !match) throw new Error(`condition ${operator} on ${key} is not evaluated by the contract test`);
      // ForAllValues holds for no value at all; a single-valued operator needs one.
      if (leadingKeys.length === 0) return operator.startsWith('ForAllValues:');
      return leadingKeys.every((value) => list(expected).some((pattern) => match(pattern, value)));
    }),
  );
}

/** The DynamoDB calls no Allow statement covers (action, table in the table's region, and the partition keys a `dynamodb:LeadingKeys` condition admits); Deny statements are not used by the stacks. */
export function unallowedDynamoCalls(stack: SynthesizedStack, statements: readonly Statement[], calls: readonly DynamoCall[]): string[] {
  const tableOf = (resource: string): { region: string; name: string } | undefined => {
    const reference = /^unknown:aws_dynamodb_table\.([A-Za-z0-9_-]+)\.arn$/.exec(resource)?.[1];
    if (reference) {
      const table = stack.resources<TableConfig>('aws_dynamodb_table').find(([name]) => name === reference)?.[1];
      return table && { region: stack.region, name: table.name };
    }
    const arn = /^arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):[0-9]{12}:table\/([A-Za-z0-9_.-]+)$/.exec(resource);
    return arn ? { region: arn[1], name: arn[2] } : undefined;
  };
  const allowed = (call: DynamoCall, table: string) =>
    statements.some(
      (statement) =>
        statement.Effect === 'Allow' &&
        list(statement.Action).some((action) => action === `dynamodb:${call.operation}` || action === 'dynamodb:*') &&
        list(statement.Resource).some((resource) => {
          const granted = tableOf(resource);
          return granted?.region === call.region && granted.name === table;
        }) &&
        dynamoConditionsHold(statement.Condition, call.leadingKeys[table] ?? []),
    );
  return [...new Set(calls.flatMap((call) => call.tables.filter((table) => !allowed(call, table)).map((table) => `dynamodb:${call.operation} on ${table} in ${call.region}${keysNamed(call.leadingKeys[table])}`)))];
}

const keysNamed = (keys: readonly string[] | undefined) => (keys?.length ? ` (keys ${keys.join(', ')})` : '');
