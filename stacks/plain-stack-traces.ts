/**
 * CDKTF captures a complete stack trace for every token and every nested-block reference it creates (kept only to
 * enrich a token-resolution error), which is a large part of the synth time of a large topology. Those captures are
 * plain objects, never Errors: they are not captured at all and keep the empty stack they start with, while every
 * real Error keeps V8's usual stack text (without a source-map mapping of every frame). Imported first by the app.
 */
const captureErrorStackTrace = Error.captureStackTrace;
Error.captureStackTrace = (target: object, constructorOpt?: Function): void => {
  if (target instanceof Error) captureErrorStackTrace(target, constructorOpt);
};
Error.prepareStackTrace = (error: unknown, callSites: NodeJS.CallSite[]): string => {
  if (!(error instanceof Error)) return '';
  return [String(error), ...callSites.map((site) => `    at ${site}`)].join('\n');
};
