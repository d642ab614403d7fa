/** A minimal XML element tree rendered deterministically: attributes in insertion order, two-space indentation. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string | undefined>>;
  readonly children: readonly XmlElement[];
}

/** Builds an element; attributes whose value is undefined are left out. */
export function xmlElement(name: string, attributes: Record<string, string | undefined> = {}, children: readonly XmlElement[] = []): XmlElement {
  return { name, attributes, children };
}

/** Renders the tree as an XML document ending with a newline. */
export function renderXml(root: XmlElement): string {
  return `${renderLines(root, 0).join('\n')}\n`;
}

function renderLines(element: XmlElement, depth: number): string[] {
  const indent = '  '.repeat(depth);
  const attributes = Object.entries(element.attributes)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXml(value)}"`)
    .join('');
  if (element.children.length === 0) return [`${indent}<${element.name}${attributes}/>`];
  return [
    `${indent}<${element.name}${attributes}>`,
    ...element.children.flatMap((child) => renderLines(child, depth + 1)),
    `${indent}</${element.name}>`,
  ];
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
