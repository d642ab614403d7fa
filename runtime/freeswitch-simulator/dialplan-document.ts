import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { isFsTrue } from './fs-true';

export type BreakMode = 'on-false' | 'on-true' | 'always' | 'never';

export interface DialplanAction {
  readonly application: string;
  readonly data: string;
  readonly inline: boolean;
}

export interface DialplanCondition {
  /** Absent means an "absolute" condition, which always holds. */
  readonly field: string | undefined;
  readonly expression: string;
  readonly breakMode: BreakMode;
  readonly actions: readonly DialplanAction[];
  readonly antiActions: readonly DialplanAction[];
}

export interface DialplanExtension {
  readonly name: string;
  readonly continueAfterMatch: boolean;
  readonly conditions: readonly DialplanCondition[];
}

export interface DialplanContext {
  readonly name: string;
  readonly extensions: readonly DialplanExtension[];
}

export class DialplanDocument {
  constructor(readonly contexts: readonly DialplanContext[]) {}

  /** The first context with this name, else the `global` one, as dialplan_hunt looks them up. */
  contextFor(name: string): DialplanContext | undefined {
    return this.contexts.find((c) => c.name === name) ?? this.contexts.find((c) => c.name === 'global');
  }
}

export class DialplanParseError extends Error {}

/** A node of fast-xml-parser's `preserveOrder` output: one tag name key plus optional `:@` attributes. */
type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
});

/**
 * Parses dialplan XML: either files' `<include><context>...` form or a whole
 * `<document type="freeswitch/xml"><section name="dialplan">` document. Throws DialplanParseError with
 * the parser's message when the XML is malformed.
 */
export function parseDialplanXml(xml: string): DialplanDocument {
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    const { msg, line, col } = validation.err;
    throw new DialplanParseError(`${msg} (line ${line}, column ${col})`);
  }
  const contexts: DialplanContext[] = [];
  collectContexts(parser.parse(xml) as OrderedNode[], contexts);
  return new DialplanDocument(contexts);
}

function tagOf(node: OrderedNode): string | undefined {
  return Object.keys(node).find((key) => key !== ':@');
}

function childrenOf(node: OrderedNode, tag: string): OrderedNode[] {
  return (node[tag] as OrderedNode[] | undefined) ?? [];
}

function attribute(node: OrderedNode, name: string): string | undefined {
  const attributes = node[':@'] as Record<string, string> | undefined;
  return attributes?.[name];
}

function textOf(nodes: OrderedNode[]): string {
  return nodes
    .map((child) => (typeof child['#text'] === 'string' ? child['#text'] : ''))
    .join('')
    .trim();
}

function collectContexts(nodes: OrderedNode[], into: DialplanContext[]): void {
  for (const node of nodes) {
    const tag = tagOf(node);
    if (tag === 'context') {
      const extensions: DialplanExtension[] = [];
      collectExtensions(childrenOf(node, tag), extensions);
      into.push({ name: attribute(node, 'name') ?? '', extensions });
    } else if (tag === 'include' || tag === 'document' || tag === 'dialplan') {
      collectContexts(childrenOf(node, tag), into);
    } else if (tag === 'section' && (attribute(node, 'name') ?? 'dialplan') === 'dialplan') {
      collectContexts(childrenOf(node, tag), into);
    }
  }
}

function collectExtensions(nodes: OrderedNode[], into: DialplanExtension[]): void {
  for (const node of nodes) {
    const tag = tagOf(node);
    if (tag === 'include') {
      collectExtensions(childrenOf(node, tag), into);
    } else if (tag === 'extension') {
      into.push({
        name: attribute(node, 'name') ?? '',
        continueAfterMatch: isFsTrue(attribute(node, 'continue')),
        conditions: childrenOf(node, tag)
          .filter((child) => tagOf(child) === 'condition')
          .map(toCondition),
      });
    }
  }
}

function toBreakMode(value: string | undefined): BreakMode {
  const lower = value?.toLowerCase();
  return lower === 'on-true' || lower === 'always' || lower === 'never' ? lower : 'on-false';
}

function toCondition(node: OrderedNode): DialplanCondition {
  const children = childrenOf(node, 'condition');
  const expressionElement = children.find((child) => tagOf(child) === 'expression');
  const actionsTagged = (tag: string): DialplanAction[] =>
    children
      .filter((child) => tagOf(child) === tag)
      .map((child) => {
        const text = textOf(childrenOf(child, tag));
        return {
          application: attribute(child, 'application') ?? '',
          data: text !== '' ? text : attribute(child, 'data') ?? '',
          inline: isFsTrue(attribute(child, 'inline')),
        };
      });
  return {
    field: attribute(node, 'field'),
    expression:
      expressionElement !== undefined
        ? textOf(childrenOf(expressionElement, 'expression'))
        : attribute(node, 'expression') ?? '',
    breakMode: toBreakMode(attribute(node, 'break')),
    actions: actionsTagged('action'),
    antiActions: actionsTagged('anti-action'),
  };
}
