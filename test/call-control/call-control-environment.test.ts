import { CALL_CONTROL_ESL_PORT, CALL_CONTROL_HEALTH_PORT } from '../../runtime/call-control/call-control-ports';
import { callControlEnvironment, parseCallControlEnvironment, type CallControlSettings } from '../../runtime/call-control/call-control-environment';
import { pick, seededRandom } from '../support/generated-values';

describe('the call-control environment', () => {
  it('spells out the ports, and parses back with the defaults filled in', () => {
    const env = callControlEnvironment({ group: 'blue', version: '1.4.0', mediaServer: 'west/ms-1' });
    expect(env).toEqual({
      CALL_CONTROL_GROUP: 'blue',
      CALL_CONTROL_VERSION: '1.4.0',
      CALL_CONTROL_MEDIA_SERVER: 'west/ms-1',
      CALL_CONTROL_ESL_PORT: String(CALL_CONTROL_ESL_PORT),
      CALL_CONTROL_HEALTH_PORT: String(CALL_CONTROL_HEALTH_PORT),
    });
    expect(parseCallControlEnvironment(env)).toEqual({
      ok: true,
      settings: { group: 'blue', version: '1.4.0', mediaServer: 'west/ms-1', eslPort: 8084, healthPort: 8080, listenHost: '0.0.0.0', logLevel: 'info' },
    });
  });

  it('parses back to what it was built from, over generated settings', () => {
    const random = seededRandom(99);
    for (let sample = 0; sample < 200; sample++) {
      const settings: CallControlSettings = {
        group: pick(random, ['blue', 'green', 'g-1', 'a'.repeat(31)]),
        version: pick(random, ['1.4.0', '_build.7', 'v2-rc_1', 'X'.repeat(128)]),
        mediaServer: pick(random, [undefined, 'west/ms-1', '0site/9-ms']),
        eslPort: pick(random, [undefined, 0, Math.floor(random() * 65536)]),
        healthPort: pick(random, [undefined, 0, Math.floor(random() * 65536)]),
        listenHost: pick(random, [undefined, '127.0.0.1', '::']),
        bridgeTarget: pick(random, [undefined, 'user/1000', 'sofia/gateway/carrier/${destination_number}']),
        shutdownGraceMs: pick(random, [undefined, 0, Math.floor(random() * 3_600_001)]),
        logLevel: pick(random, [undefined, 'debug', 'warn', 'error'] as const),
      };
      const parsed = parseCallControlEnvironment(callControlEnvironment(settings));
      expect(parsed).toEqual({
        ok: true,
        settings: {
          ...settings,
          eslPort: settings.eslPort ?? CALL_CONTROL_ESL_PORT,
          healthPort: settings.healthPort ?? CALL_CONTROL_HEALTH_PORT,
          listenHost: settings.listenHost ?? '0.0.0.0',
          logLevel: settings.logLevel ?? 'info',
        },
      });
    }
  });

  it('names each bad variable in one line', () => {
    const env = { ...callControlEnvironment({ group: 'blue', version: '1+build' }), CALL_CONTROL_MEDIA_SERVER: 'ms-1', VOICEPLANE_LOG_LEVEL: 'verbose' };
    expect(parseCallControlEnvironment(env)).toEqual({
      ok: false,
      problem: expect.stringMatching(/^CALL_CONTROL_VERSION must be 1-128 letters, digits.*; CALL_CONTROL_MEDIA_SERVER "ms-1" is not SITE\/MEDIA-SERVER.*; VOICEPLANE_LOG_LEVEL must be one of debug, info, warn, error$/),
    });
  });
});
