import type { CallEntry, LogEntry, PropertyEntry } from '../../runtime/cds/call/call-entries';
import { CallRecord } from '../../runtime/cds/call/call-record';
import { entriesToStore, supersedes } from '../../runtime/cds/call/last-writer-wins';

const property = (name: string, value: string, ts: number, site = 'west'): PropertyEntry => ({ kind: 'property', name, value, ts, site });
const log = (ts: number, site = 'west'): LogEntry => ({ kind: 'log', id: `${ts}-${site}`, entry: `note ${ts}`, ts, site });

function recordWith(entries: CallEntry[]): CallRecord {
  const record = new CallRecord('west:1', 'west');
  record.apply(entries);
  return record;
}

describe('last writer wins', () => {
  it('orders by timestamp, then by site id, and treats an equal stamp as a duplicate', () => {
    expect(supersedes({ ts: 2, site: 'a' }, { ts: 1, site: 'z' })).toBe(true);
    expect(supersedes({ ts: 1, site: 'z' }, { ts: 2, site: 'a' })).toBe(false);
    expect(supersedes({ ts: 2, site: 'b' }, { ts: 2, site: 'a' })).toBe(true);
    expect(supersedes({ ts: 2, site: 'a' }, { ts: 2, site: 'a' })).toBe(false);
    expect(supersedes({ ts: 0, site: 'a' }, undefined)).toBe(true);
  });

  it('keeps only newer property writes and discards what is already held', () => {
    const held = recordWith([property('note', 'held', 10)]);
    const incoming = [property('note', 'older', 9), property('note', 'held', 10), property('callee', '1000', 3)];
    expect(entriesToStore(held, incoming)).toEqual([property('callee', '1000', 3)]);
  });

  it('keeps the winner when one batch writes a property several times, in any order', () => {
    const incoming = [property('state', 'answered', 20), property('state', 'ringing', 10), property('state', 'bridged', 30, 'east')];
    expect(entriesToStore(recordWith([]), incoming)).toEqual([property('state', 'bridged', 30, 'east')]);
    expect(entriesToStore(recordWith([]), [...incoming].reverse())).toEqual([property('state', 'bridged', 30, 'east')]);
  });

  it('keeps each log entry once, whatever its age', () => {
    const held = recordWith([log(50)]);
    expect(entriesToStore(held, [log(50), log(10), log(10), log(60, 'east')])).toEqual([log(10), log(60, 'east')]);
  });
});
