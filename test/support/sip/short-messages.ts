import { existsSync, readFileSync } from 'fs';

/** One line of SIPp's -trace_shortmsg log: a SIP message it received (R) or sent (S). */
export interface ShortMessage {
  readonly epochSeconds: number;
  readonly direction: 'R' | 'S';
  readonly callId: string;
  /** Method of the CSeq header: INVITE for a request and for its replies. */
  readonly cseqMethod: string;
  /** Request line or status line. */
  readonly firstLine: string;
}

export function readShortMessages(file: string): ShortMessage[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, , epoch, direction, callId, cseq, firstLine] = line.split('\t');
      return { epochSeconds: Number(epoch), direction: direction as 'R' | 'S', callId, cseqMethod: cseq.split(' ')[1] ?? '', firstLine: firstLine ?? '' };
    });
}

export const isRequest = (message: ShortMessage, method: string) => message.firstLine.startsWith(`${method} `);
export const isReply = (message: ShortMessage, code: number, method: string) => message.firstLine.startsWith(`SIP/2.0 ${code} `) && message.cseqMethod === method;
