#!/usr/bin/env node
// The `voiceplane` command: runs the compiled CLI (npm run build). In a checkout it runs the TypeScript sources through
// ts-node instead when there is no build or a source changed after it, so work in progress never runs stale code.
const { existsSync, readdirSync, statSync } = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const compiled = path.join(root, 'dist/runtime/cli.js');
const checkout = existsSync(path.join(root, 'runtime/cli.ts'));

function newestSourceChange(directory) {
  if (!existsSync(directory)) return 0;
  return readdirSync(directory, { withFileTypes: true }).reduce((newest, entry) => {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) return Math.max(newest, newestSourceChange(file));
    return entry.name.endsWith('.ts') ? Math.max(newest, statSync(file).mtimeMs) : newest;
  }, 0);
}

const stale = () => Math.max(...['runtime', 'lib', 'stacks'].map((folder) => newestSourceChange(path.join(root, folder)))) > statSync(compiled).mtimeMs;
const useCompiled = existsSync(compiled) && !(checkout && stale());
if (!useCompiled) require('ts-node').register({ transpileOnly: true, project: path.join(root, 'tsconfig.json') });
require(useCompiled ? compiled : path.join(root, 'runtime/cli.ts')).runProcess();
