import { decodeRouteTable } from '../../dialplan';
import type { EndedGroupCall } from '../canary/canary-observation';
import type { AuditEntry } from '../state/upgrade-records';

/** What a failed canary cost: the calls its version had, and how fast its share went to 0 after its first failure. */
export interface CanaryCost {
  /** Calls the group had from its first canary share until its share reached 0. */
  readonly canaryCalls: number;
  /** Of those, the calls that ended with a failure hangup cause. */
  readonly failedCalls: number;
  /** Epoch ms: the end of the first failed call, and the verified route write that took the share to 0. */
  readonly firstFailureAt?: number;
  readonly shareZeroAt?: number;
  /** From the first failed call's end to the share of 0 in the route table. */
  readonly detectionMs?: number;
  /** Calls the group took (created) from its first failed call's end until its share reached 0. */
  readonly callsMeanwhile: number;
}

/** The cost of `groupId`'s canary on one media server, from its upgrade's audit and the calls the media server reported. */
export function canaryCost(groupId: string, audit: readonly AuditEntry[], calls: readonly EndedGroupCall[]): CanaryCost {
  const shareWrites = audit.filter((entry) => entry.groupId === groupId && entry.event.type === 'route-change' && entry.event.action === 'share');
  const shareOf = (entry: AuditEntry) => (entry.event.type === 'route-change' ? decodeRouteTable(entry.event.table).groups.find((group) => group.id === groupId)?.share : undefined);
  const firstShare = shareWrites.find((entry) => (shareOf(entry) ?? 0) > 0);
  const shareZero = shareWrites.find((entry) => shareOf(entry) === 0);
  if (!firstShare || firstShare.event.type !== 'route-change') return { canaryCalls: 0, failedCalls: 0, callsMeanwhile: 0 };
  const from = firstShare.event.startedAt;
  const until = shareZero?.at ?? Number.POSITIVE_INFINITY;
  const createdAt = (call: EndedGroupCall) => call.createdAtMs ?? Number.NaN;
  const canaryCalls = calls.filter((call) => call.groupId === groupId && createdAt(call) >= from && createdAt(call) <= until);
  const failureEnds = canaryCalls.flatMap((call) => (call.failed && call.endedAtMs !== undefined ? [call.endedAtMs] : []));
  const failed = canaryCalls.filter((call) => call.failed);
  const firstFailureAt = failureEnds.length === 0 ? undefined : Math.min(...failureEnds);
  const callsMeanwhile = firstFailureAt === undefined ? 0 : canaryCalls.filter((call) => createdAt(call) >= firstFailureAt).length;
  const detectionMs = firstFailureAt === undefined || shareZero === undefined ? undefined : shareZero.at - firstFailureAt;
  return { canaryCalls: canaryCalls.length, failedCalls: failed.length, firstFailureAt, shareZeroAt: shareZero?.at, detectionMs, callsMeanwhile };
}
