import { runCdsServeCommand, type CdsServeRawOptions } from '../../../runtime/commands/cds-command';

// `cds serve` in a process that never calls process.exit, so it ends only once nothing the command opened is
// left running. Its one argument: the raw options as JSON. Prints the command's error message, or `stopped`.
const options = JSON.parse(process.argv[2] ?? '{}') as CdsServeRawOptions;
runCdsServeCommand(options, { line: () => undefined }).then(
  () => console.log('stopped'),
  (error: Error) => console.log(error.message),
);
