// Loads the app's TypeScript sources (ts-node, transpile only) for `cdktf synth`, `voiceplane synth` from a
// checkout and the synth benchmark. SWC transpiles them as for the tests (@swc/jest), in a fraction of the time
// TypeScript's own transpiler takes to load and run.
require('ts-node').register({ transpileOnly: true, swc: true, project: require('path').join(__dirname, '../tsconfig.json') });
