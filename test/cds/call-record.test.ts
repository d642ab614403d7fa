import type { CallEntry } from '../../runtime/cds/call/call-entries';
import { CallRecord } from '../../runtime/cds/call/call-record';

const entries: CallEntry[] = [
  { kind: 'property', name: 'caller', value: '+15550100', ts: 100, site: 'west', recordedTs: 100 },
  { kind: 'property', name: 'crm.note', value: { text: 'vip' }, ts: 150, site: 'east', recordedTs: 210 },
  { kind: 'log', id: '120-east', entry: 'transferred', ts: 120, site: 'east', recordedTs: 220 },
  { kind: 'log', id: '110-west', entry: 'answered', ts: 110, site: 'west', recordedTs: 110 },
  { kind: 'property', name: 'east.mediaServer', value: 'ms-2', ts: 230, site: 'east' },
];

function record(): CallRecord {
  const call = new CallRecord('west:abc', 'west');
  call.apply(entries);
  return call;
}

describe('CallRecord', () => {
  it('gives the delta recorded after a timestamp, without the entries the receiver wrote', () => {
    expect(record().entriesRecordedAfter(200).map((entry) => entry.ts)).toEqual([150, 120]);
    expect(record().entriesRecordedAfter(200, 'east')).toEqual([]);
    expect(record().entriesRecordedAfter(0).length).toBe(4);
  });

  it("lists a participant's own writes newer than the owner's acknowledgement", () => {
    expect(record().entriesWrittenBy('east', 120).map((entry) => entry.ts)).toEqual([150, 230]);
    expect(record().entriesWrittenBy('east', 230)).toEqual([]);
  });

  it('shows properties by name and log entries in write order', () => {
    const view = record().view();
    expect(view).toEqual({
      callId: 'west:abc',
      owner: 'west',
      state: 'active',
      properties: {
        caller: { value: '+15550100', ts: 100, site: 'west' },
        'crm.note': { value: { text: 'vip' }, ts: 150, site: 'east' },
        'east.mediaServer': { value: 'ms-2', ts: 230, site: 'east' },
      },
      logs: [
        { id: '110-west', ts: 110, site: 'west', entry: 'answered' },
        { id: '120-east', ts: 120, site: 'east', entry: 'transferred' },
      ],
    });
    expect(record().maxTs).toBe(230);
  });

  it('is replaced wholesale by a final record', () => {
    const call = record();
    call.replaceAll([entries[0]]);
    expect(Object.keys(call.view().properties)).toEqual(['caller']);
    expect(call.view().logs).toEqual([]);
  });

  it("counts each entry's stamps and names in its size, so many small entries cannot outgrow a peer message", () => {
    const call = new CallRecord('west:abc', 'west');
    const tiny: CallEntry = { kind: 'log', id: '300-west', entry: 1, ts: 300, site: 'west', recordedTs: 300 };
    call.apply([tiny]);
    expect(call.byteSize).toBe(Buffer.byteLength(JSON.stringify(tiny)));
  });
});
