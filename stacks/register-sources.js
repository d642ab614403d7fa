// Loads the app's TypeScript sources (ts-node, transpile only) for `cdktf synth`, `voiceplane synth` from a
// checkout and the synth benchmark.
require('ts-node').register({ transpileOnly: true, project: require('path').join(__dirname, '../tsconfig.json') });
