import { execFile } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { findExecutable, reportMissingTool } from './missing-tool';

const run = promisify(execFile);

/** Debian's chromium, or undefined (reported: a failure where VOICEPLANE_REQUIRE_CHROMIUM=1, as in CI). */
export function findChromium(): string | undefined {
  const binary = findExecutable('chromium', ['/usr/bin', '/usr/local/bin']);
  if (!binary) reportMissingTool('chromium is not installed (apt-get install chromium): the rendering tests are skipped', 'VOICEPLANE_REQUIRE_CHROMIUM');
  return binary;
}

/** Renders a local file in headless Chromium and writes a PNG screenshot of the top `width`×`height` pixels. */
export async function screenshot(chromium: string, file: string, png: string, width: number, height: number): Promise<void> {
  const profile = mkdtempSync(path.join(tmpdir(), 'chromium-profile-'));
  try {
    await run(
      chromium,
      ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${profile}`, `--window-size=${width},${height}`, `--screenshot=${png}`, `file://${path.resolve(file)}`],
      { timeout: 60_000 },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
