import { Construct } from 'constructs';

const COMPONENT_CONTEXT_KEY = 'voiceplane:component';

/**
 * Marks `scope` and everything created inside it as part of a platform component; the
 * ComponentTags aspect turns this into a `Component` tag. Call it before adding children.
 */
export function markComponent(scope: Construct, component: string): void {
  scope.node.setContext(COMPONENT_CONTEXT_KEY, component);
}

export function componentOf(scope: Construct): string | undefined {
  return scope.node.tryGetContext(COMPONENT_CONTEXT_KEY);
}
