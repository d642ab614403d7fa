import { DialplanAction, DialplanCondition, DialplanDocument, DialplanExtension } from './dialplan-document';
import { matchFsRegex, substituteCaptures } from './fs-regex';

/** What a hunt needs from the channel being routed. */
export interface HuntEnvironment {
  /** A caller-profile field such as destination_number (plain condition fields read these, not variables). */
  profileField(name: string): string | undefined;
  /** Channel-variable expansion, done at hunt time for expressions and `${...}` fields. */
  expand(text: string): string;
  /** Runs an `inline="true"` action immediately, while the hunt is still going on. */
  runInline(action: DialplanAction): void;
}

/** An action that the hunt selected, its `$N` captures already substituted. */
export interface HuntedAction {
  readonly application: string;
  readonly data: string;
}

/**
 * mod_dialplan_xml's dialplan_hunt: walks the context's extensions in order, evaluating conditions now,
 * collecting actions (or anti-actions) into one list, stopping at the first extension that "proceeds"
 * unless it says continue="true". Actions from an extension that proceeds only partway stay collected,
 * exactly as in FreeSWITCH.
 */
export function huntDialplan(document: DialplanDocument, contextName: string, env: HuntEnvironment): HuntedAction[] {
  const context = document.contextFor(contextName);
  if (context === undefined) return [];
  const selected: HuntedAction[] = [];
  for (const extension of context.extensions) {
    const proceeded = evaluateExtension(extension, env, selected);
    if (proceeded && !extension.continueAfterMatch) break;
  }
  return selected;
}

function evaluateExtension(extension: DialplanExtension, env: HuntEnvironment, selected: HuntedAction[]): boolean {
  let proceed = false;
  for (const condition of extension.conditions) {
    const outcome = evaluateCondition(condition, env);
    proceed = outcome.proceed;
    if (outcome.matched) {
      const substitute = condition.field !== undefined && outcome.expression.includes('(') && outcome.match !== null;
      for (const action of condition.actions) {
        const data = substitute ? substituteCaptures(action.data, outcome.match as RegExpExecArray) : action.data;
        take({ ...action, data }, env, selected);
      }
    } else {
      for (const action of condition.antiActions) take(action, env, selected);
      if (condition.antiActions.length > 0) proceed = true;
    }
    const breaks =
      condition.breakMode === 'always' ||
      (outcome.matched && condition.breakMode === 'on-true') ||
      (!outcome.matched && condition.breakMode === 'on-false');
    if (breaks) break;
  }
  return proceed;
}

interface ConditionOutcome {
  readonly matched: boolean;
  readonly proceed: boolean;
  readonly expression: string;
  readonly match: RegExpExecArray | null;
}

function evaluateCondition(condition: DialplanCondition, env: HuntEnvironment): ConditionOutcome {
  const expression = env.expand(condition.expression);
  if (condition.field === undefined) return { matched: true, proceed: true, expression, match: null };
  const fieldData = condition.field.includes('$')
    ? env.expand(condition.field)
    : env.profileField(condition.field) ?? '';
  const match = matchFsRegex(fieldData, expression);
  return { matched: match !== null, proceed: match !== null, expression, match };
}

function take(action: DialplanAction, env: HuntEnvironment, selected: HuntedAction[]): void {
  if (action.inline) env.runInline(action);
  else selected.push({ application: action.application, data: action.data });
}
