import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { createInterface } from 'readline';

const EMBEDDED_DYNAMODB = path.join(__dirname, '../../dist/runtime/dynamodb/embedded-dynamodb.js');

/**
 * A site's DynamoDB for the CDS benchmark: the embedded dynalite in a process of its own, so that a node's CPU is
 * the node's alone, as in a deployment where the table is a service elsewhere (the machine's cores are still shared).
 */
export class TableServerProcess {
  endpoint = '';
  private child?: ChildProcess;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<string> {
    const script = `require(${JSON.stringify(EMBEDDED_DYNAMODB)}).startEmbeddedDynamoDb().then((dynamo) => console.log(dynamo.endpoint))`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', (line) => resolve((this.endpoint = line.trim())));
      child.once('exit', (code) => reject(new Error(`the table server exited (${code}) before listening`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
