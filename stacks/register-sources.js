// Loads the app's TypeScript sources (ts-node, transpile only) for `cdktf synth`, `voiceplane synth`
// and the synth benchmark. CDKTF captures a stack trace for every token it creates; ts-node's
// source-map support would map every frame of each, which more than doubles the synth time of a
// large topology, so stack traces keep their transpiled line numbers here.
require('ts-node').register({ transpileOnly: true, project: require('path').join(__dirname, '../tsconfig.json') });
Error.prepareStackTrace = undefined;
