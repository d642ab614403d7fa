import { EVENT_NAMES, canonicalEventName } from './event-names';
import { EventFormat } from './event-serializer';
import { FsEvent } from './fs-event';
import { matchFsRegex } from './fs-regex';

const EVERY_EVENT_TYPE = EVENT_NAMES.filter((name) => name !== 'ALL');

/**
 * What one event-socket listener receives: the event types it asked for (event/nixevent/noevents),
 * its format, and its header filters, with mod_event_socket's semantics.
 */
export class EventSubscription {
  enabled = false;
  format: EventFormat = 'plain';
  private all = false;
  private readonly types = new Set<string>();
  private readonly customSubclasses = new Set<string>();
  private readonly filters: Array<[string, string]> = [];

  /** The `event` command's tokens (after the command word); returns how many event keywords counted. */
  subscribe(tokens: readonly string[]): number {
    let keywords = 0;
    let custom = false;
    tokens.forEach((token, index) => {
      if (index === 0 && isFormat(token)) {
        this.format = token.toLowerCase() as EventFormat;
        return;
      }
      if (custom) {
        this.customSubclasses.add(token);
        return;
      }
      const name = canonicalEventName(token);
      if (name === undefined) return;
      keywords++;
      if (name === 'ALL') this.all = true;
      else this.types.add(name);
      if (name === 'CUSTOM') custom = true;
    });
    if (keywords > 0) this.enabled = true;
    return keywords;
  }

  /** `myevents`: the fixed set of channel events an outbound socket gets for its own call. */
  subscribeToOwnCall(format: EventFormat | undefined): void {
    for (const name of OWN_CALL_EVENTS) this.types.add(name);
    if (format !== undefined) this.format = format;
    this.enabled = true;
  }

  /** The `nixevent` command's tokens; returns how many event keywords counted. */
  unsubscribe(tokens: readonly string[]): number {
    let keywords = 0;
    let custom = false;
    for (const token of tokens) {
      if (custom) {
        this.customSubclasses.delete(token);
        continue;
      }
      const name = canonicalEventName(token);
      if (name === undefined) continue;
      keywords++;
      if (name === 'CUSTOM') {
        custom = true;
      } else if (name === 'ALL') {
        this.all = false;
        this.types.clear();
      } else {
        if (this.all) {
          this.all = false;
          for (const type of EVERY_EVENT_TYPE) this.types.add(type);
        }
        this.types.delete(name);
      }
    }
    if (keywords > 0) this.enabled = true;
    return keywords;
  }

  /** `noevents`; false when the listener was not listening. */
  clear(): boolean {
    if (!this.enabled) return false;
    this.enabled = false;
    this.all = false;
    this.types.clear();
    this.customSubclasses.clear();
    return true;
  }

  wants(eventName: string): boolean {
    return this.enabled && (this.all || this.types.has(eventName));
  }

  addFilter(header: string, value: string): void {
    this.filters.push([header, value]);
  }

  /** `filter delete HEADER [VALUE]`; `all` removes every filter. */
  deleteFilter(header: string, value: string | undefined): void {
    if (header.toLowerCase() === 'all') {
      this.filters.length = 0;
      return;
    }
    for (let i = this.filters.length - 1; i >= 0; i--) {
      const [name, filterValue] = this.filters[i];
      if (name.toLowerCase() === header.toLowerCase() && (value === undefined || filterValue === value)) {
        this.filters.splice(i, 1);
      }
    }
  }

  /**
   * Filters as event_handler applies them: with any filter present an event passes only if a positive
   * filter matches a header it carries and no `-` filter matches; `/re/` values are regexes, other
   * values compare case-insensitively.
   */
  passesFilters(event: FsEvent): boolean {
    if (this.filters.length === 0) return true;
    let send = false;
    for (const [header, rawValue] of this.filters) {
      const headerValue = event.get(header);
      if (headerValue === undefined) continue;
      const { positive, value } = splitSign(rawValue);
      if (send && positive) continue;
      const matches = rawValue.startsWith('/')
        ? matchFsRegex(headerValue, value) !== null
        : headerValue.toLowerCase() === value.toLowerCase();
      if (!matches) continue;
      if (!positive) return false;
      send = true;
    }
    return send;
  }
}

function isFormat(token: string): boolean {
  return ['plain', 'json', 'xml'].includes(token.toLowerCase());
}

function splitSign(rawValue: string): { positive: boolean; value: string } {
  let positive = true;
  let i = 0;
  for (; i < rawValue.length; i++) {
    const c = rawValue[i];
    if (c === '+') positive = true;
    else if (c === '-') positive = false;
    else if (c !== ' ') break;
  }
  return { positive, value: rawValue.slice(i) };
}

const OWN_CALL_EVENTS = [
  'CHANNEL_ANSWER',
  'CHANNEL_APPLICATION',
  'CHANNEL_BRIDGE',
  'CHANNEL_CREATE',
  'CHANNEL_DATA',
  'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE',
  'CHANNEL_EXECUTE_COMPLETE',
  'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE',
  'CHANNEL_ORIGINATE',
  'CHANNEL_UUID',
  'CHANNEL_OUTGOING',
  'CHANNEL_PARK',
  'CHANNEL_PROGRESS',
  'CHANNEL_PROGRESS_MEDIA',
  'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE',
  'CHANNEL_UNPARK',
  'DETECTED_SPEECH',
  'DTMF',
  'NOTALK',
  'TALK',
];
