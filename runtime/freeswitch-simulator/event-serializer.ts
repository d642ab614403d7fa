import { FsEvent } from './fs-event';
import { fsUrlEncode } from './url-encode';

export type EventFormat = 'plain' | 'json' | 'xml';

/** switch_event_serialize: `Name: url-encoded value` lines, empty values as `_undef_`, then the body. */
export function serializePlain(event: FsEvent): string {
  let text = '';
  for (const [name, value] of event.headers) {
    const encoded = fsUrlEncode(value);
    text += `${name}: ${encoded === '' ? '_undef_' : encoded}\n`;
  }
  if (event.body !== '') return `${text}Content-Length: ${Buffer.byteLength(event.body)}\n\n${event.body}`;
  return `${text}\n`;
}

/** switch_event_serialize_json: one object, every value a string, the body under `_body`. */
export function serializeJson(event: FsEvent): string {
  const object: Record<string, string> = {};
  for (const [name, value] of event.headers) object[name] = value;
  if (event.body !== '') {
    object['Content-Length'] = String(Buffer.byteLength(event.body));
    object._body = event.body;
  }
  return JSON.stringify(object);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** switch_event_xmlize rendered without indentation. */
export function serializeXml(event: FsEvent): string {
  let text = '<event>\n  <headers>\n';
  for (const [name, value] of event.headers) text += `    <${name}>${escapeXml(value)}</${name}>\n`;
  text += '  </headers>\n';
  if (event.body !== '') {
    text += `  <Content-Length>${Buffer.byteLength(event.body)}</Content-Length>\n  <body>${escapeXml(
      event.body
    )}</body>\n`;
  }
  return `${text}</event>`;
}

const SERIALIZERS: Record<EventFormat, (event: FsEvent) => string> = {
  plain: serializePlain,
  json: serializeJson,
  xml: serializeXml,
};

export function serializeEvent(event: FsEvent, format: EventFormat): string {
  return event.serializedAs(format, SERIALIZERS[format]);
}
