import { StateBackend, stateBackendSchema } from '../lib';
import { DeploymentProfile } from './deployment-profile';

/** The environment variables that set the state backend; each one replaces one field of the topology's `stateBackend`. */
export interface StateBackendVariables {
  readonly VOICEPLANE_STATE_BACKEND?: string;
  readonly VOICEPLANE_STATE_BUCKET?: string;
  readonly VOICEPLANE_STATE_REGION?: string;
  readonly VOICEPLANE_STATE_PREFIX?: string;
}

const FIELD_OF_VARIABLE = {
  VOICEPLANE_STATE_BACKEND: 'kind',
  VOICEPLANE_STATE_BUCKET: 'bucket',
  VOICEPLANE_STATE_REGION: 'region',
  VOICEPLANE_STATE_PREFIX: 'keyPrefix',
} as const;
type Variable = keyof typeof FIELD_OF_VARIABLE;
const S3_VARIABLES: readonly Variable[] = ['VOICEPLANE_STATE_BUCKET', 'VOICEPLANE_STATE_REGION', 'VOICEPLANE_STATE_PREFIX'];

export const MISSING_STATE_BACKEND =
  'no Terraform state backend: add "stateBackend": {"kind": "s3", "bucket": "...", "region": "..."} to the topology, ' +
  'or set VOICEPLANE_STATE_BUCKET and VOICEPLANE_STATE_REGION (VOICEPLANE_STATE_BACKEND=local keeps the state on this machine, for trying things out)';

/** A state backend that cannot be used; the message is one line naming the variable or field. */
export class StateBackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateBackendError';
  }
}

/**
 * The state backend of a run: the topology's `stateBackend` with every VOICEPLANE_STATE_* variable that is
 * set replacing its field. Setting an S3 variable selects the S3 backend unless VOICEPLANE_STATE_BACKEND
 * says otherwise; a different kind drops the topology's fields. Undefined when neither configures one.
 */
export function resolveStateBackend(fromTopology: StateBackend | undefined, variables: StateBackendVariables): StateBackend | undefined {
  const overriding = (Object.keys(FIELD_OF_VARIABLE) as Variable[]).filter((variable) => variables[variable] !== undefined);
  if (overriding.length === 0) return fromTopology;
  const kind = variables.VOICEPLANE_STATE_BACKEND ?? (overriding.some((variable) => S3_VARIABLES.includes(variable)) ? 's3' : fromTopology?.kind);
  const candidate: Record<string, unknown> = kind === fromTopology?.kind ? { ...fromTopology } : { kind };
  for (const variable of overriding) candidate[FIELD_OF_VARIABLE[variable]] = variables[variable];

  const parsed = stateBackendSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  // The topology's own fields were validated with it: whatever is wrong came from a variable, or is missing.
  const [issue] = parsed.error.issues;
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : String(issue.path[0] ?? 'kind');
  const variable = variableOf(field);
  if (issue.code === 'unrecognized_keys') throw new StateBackendError(`${variable}: not used by the ${kind} state backend`);
  if (candidate[field] === undefined) throw new StateBackendError(`${variable}: required by the ${kind} state backend (or set stateBackend.${field} in the topology)`);
  throw new StateBackendError(`${variable}: ${issue.message}`);
}

function variableOf(field: string): string {
  return (Object.keys(FIELD_OF_VARIABLE) as Variable[]).find((variable) => FIELD_OF_VARIABLE[variable] === field) ?? `stateBackend.${field}`;
}

/** The backend the stacks use: the offline profile keeps state locally (S3 cannot be reached offline); `aws` needs one configured. */
export function stackStateBackend(profile: DeploymentProfile, configured: StateBackend | undefined): StateBackend {
  if (profile === 'offline') return { kind: 'local' };
  if (!configured) throw new StateBackendError(MISSING_STATE_BACKEND);
  return configured;
}
