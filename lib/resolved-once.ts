import { IConstruct } from 'constructs';
import { IResolvable, IResolveContext, Token } from 'cdktf';

/** Resolves `value` once per kind of resolution (scope and flags) and gives that result every other time. */
class ResolvedOnce implements IResolvable {
  public readonly creationStack: string[] = [];
  private readonly resolved = new Map<IConstruct, Map<string, unknown>>();

  constructor(private readonly value: string) {}

  public resolve(context: IResolveContext): unknown {
    // Inside an iterator the same expression may stand for each element in turn.
    if (context.iteratorContext) return context.resolve(this.value);
    const flags = [context.preparing, context.suppressBraces, context.ignoreEscapes, context.warnEscapes].join();
    let inScope = this.resolved.get(context.scope);
    if (!inScope) {
      inScope = new Map();
      this.resolved.set(context.scope, inScope);
    }
    if (!inScope.has(flags)) inScope.set(flags, context.resolve(this.value));
    return inScope.get(flags);
  }

  public toString(): string {
    return Token.asString(this);
  }
}

/**
 * `value` (a string holding tokens, such as an `Fn.element` of a list of references) as one token that resolves to the
 * same text, working it out only once however many attributes use it: CDKTF resolves a token afresh at every use.
 */
export function resolvedOnce(value: string): string {
  return Token.asString(new ResolvedOnce(value));
}
