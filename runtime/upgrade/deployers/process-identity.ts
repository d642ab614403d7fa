import { readFileSync } from 'fs';

/**
 * Identifies a live process beyond its pid, which the system reuses: its start time in clock ticks
 * since boot (`/proc/PID/stat` field 22). Undefined where /proc is unavailable; `exited` for a process
 * that is gone or a zombie.
 */
export function processStartTicks(pid: number): string | 'exited' | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    return isAlive(pid) ? undefined : 'exited';
  }
  // The command name (field 2) is parenthesised and may contain spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' ? 'exited' : fields[19];
}

/** The process exists and was started at `startTicks` (when known). */
export function isSameProcess(pid: number, startTicks: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  const current = processStartTicks(pid);
  return current !== 'exited' && (startTicks === undefined || current === undefined || current === startTicks);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
