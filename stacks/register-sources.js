// Loads the app's TypeScript sources (ts-node, transpile only) for `cdktf synth`, `voiceplane synth`
// and the synth benchmark.
//
// CDKTF captures and formats a complete stack trace for every token it creates (kept only to enrich
// a token-resolution error), which is most of the synth time of a large topology. Those captures are
// plain objects, never Errors: they get an empty stack, while every real Error keeps V8's usual
// stack text (without ts-node's source-map mapping, which would map every frame of every capture).
require('ts-node').register({ transpileOnly: true, project: require('path').join(__dirname, '../tsconfig.json') });

Error.prepareStackTrace = (error, callSites) => {
  if (!(error instanceof Error)) return '';
  return [String(error), ...callSites.map((site) => `    at ${site}`)].join('\n');
};
