import { type XmlElement, xmlElement } from '../dialplan/xml-document';

/** Building blocks of FreeSWITCH configuration documents. */

export function param(name: string, value: string | number | boolean): XmlElement {
  return xmlElement('param', { name, value: String(value) });
}

export function settings(values: Record<string, string | number | boolean>): XmlElement {
  return xmlElement('settings', {}, Object.entries(values).map(([name, value]) => param(name, value)));
}

/** A `<configuration name="NAME.conf">` document as FreeSWITCH reads it from `autoload_configs/`. */
export function configuration(name: string, description: string, children: readonly XmlElement[]): XmlElement {
  return xmlElement('configuration', { name: `${name}.conf`, description }, children);
}

/** Pre-processor instruction: `include` a file or glob relative to the configuration directory, or `set` a `$${variable}`. */
export function preProcess(cmd: 'include' | 'set', data: string): XmlElement {
  return xmlElement('X-PRE-PROCESS', { cmd, data });
}

/** `$${name}`: a pre-processor variable, replaced when FreeSWITCH loads the configuration. */
export function preProcessorVariable(name: string): string {
  return `$\${${name}}`;
}
