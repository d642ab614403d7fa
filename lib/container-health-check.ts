/**
 * An ECS container health check that GETs `http://127.0.0.1:PORT/PATH` and passes on 200. It runs `node`, which
 * every voiceplane image has (the slim base images have no curl).
 */
export function httpContainerHealthCheck(port: number, path: string, timing: { interval: number; timeout: number; retries: number; startPeriod: number }) {
  const probe = `require('http').get('http://127.0.0.1:${port}${path}',(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))`;
  return { command: ['CMD', 'node', '-e', probe], ...timing };
}
