#!/usr/bin/env node
// The `voiceplane` command: runs the compiled CLI when built (npm run build), else the TypeScript sources.
const { existsSync } = require('fs');
const path = require('path');

const compiled = path.join(__dirname, '../dist/runtime/cli.js');
if (!existsSync(compiled)) {
  require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '../tsconfig.json') });
}
require(existsSync(compiled) ? compiled : '../runtime/cli.ts').runProcess();
