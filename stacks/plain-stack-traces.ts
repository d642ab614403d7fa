/**
 * CDKTF captures and formats a complete stack trace for every token it creates (kept only to enrich a
 * token-resolution error), which is most of the synth time of a large topology. Those captures are plain objects,
 * never Errors: they get an empty stack, while every real Error keeps V8's usual stack text (without a source-map
 * mapping of every frame of every capture). Imported first by the app.
 */
Error.prepareStackTrace = (error: unknown, callSites: NodeJS.CallSite[]): string => {
  if (!(error instanceof Error)) return '';
  return [String(error), ...callSites.map((site) => `    at ${site}`)].join('\n');
};
