import { Command } from 'commander';
import * as path from 'path';
import { CDS_SERVE_OPTIONS } from '../commands/cds-serve-flags';
import { UsageError } from '../commands/cli-error';
import type { RoutesAction } from '../commands/routes-command';
import type { SipAction } from '../commands/sip-command';
import type { CliContext } from './cli-context';
import {
  CALLS_OPTIONS,
  CDS_KEYGEN_OPTIONS,
  CDS_SERVE_SECRETS_HELP,
  DEMO_OPTIONS,
  INVENTORY_OPTIONS,
  MEDIA_SERVER_CONFIG_OPTIONS,
  ROUTES_GROUP_OPTIONS,
  ROUTES_SET_OPTIONS,
  ROUTES_SHARE_OPTIONS,
  ROUTES_SHOW_OPTIONS,
  SIP_CONFIG_OPTIONS,
  SIP_MAINTENANCE_OPTIONS,
  SYNTH_OPTIONS,
  TOPOLOGY_DIAGRAM_OPTIONS,
  UPGRADE_HISTORY_OPTIONS,
  UPGRADE_OPTIONS,
  UPGRADE_REPORT_OPTIONS,
  UPGRADE_STATUS_OPTIONS,
} from './command-options';
import { addOptionTable, optionValues, type OptionTable, type OptionValues } from './option-table';
import { packageVersion } from './package-root';
import { SHELLS, renderCompletionScript, type Shell } from './shell-completion';

/** Runs a command once its line is parsed; resolves to the process's exit code. */
type CommandAction<Table extends OptionTable> = (values: OptionValues<Table>, context: CliContext) => Promise<number>;

/**
 * The `voiceplane` command tree: every command's flags and help, and what runs it. A command's module is loaded only
 * when that command runs, so `--help`, completion and a mistyped command answer without loading the AWS SDK.
 * `setExitCode` receives the exit code of the command that ran.
 */
export function commandTree(context: CliContext, setExitCode: (code: number) => void): Command {
  const program = new Command('voiceplane')
    .description('Run a FreeSWITCH voice platform on AWS without dropping a live call.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.line(text.replace(/\n$/, '')),
      writeErr: (text) => context.stderr.line(text.replace(/\n$/, '')),
      // Errors are printed by the caller as one line.
      outputError: () => undefined,
    });

  const leaf = <Table extends OptionTable>(parent: Command, name: string, description: string, table: Table, action: CommandAction<NoInfer<Table>>): Command => {
    const command = addOptionTable(parent.command(name).description(description), table);
    return command.action(async () => setExitCode(await action(optionValues(command, table), context)));
  };

  leaf(program, 'synth', "synthesize the platform's stacks", SYNTH_OPTIONS, async (values) => {
    const { runSynthCommand } = await import('../commands/synth-command');
    runSynthCommand({ topology: values.topology, outdir: path.resolve(values.out ?? 'cdktf.out'), stacks: values.stack, env: context.env }, context.stdout);
    return 0;
  });

  const routes = program.command('routes').description("read or edit a media server's call-control route table");
  const routesAction = (action: RoutesAction) => async (values: OptionValues<typeof ROUTES_SET_OPTIONS & typeof ROUTES_SHARE_OPTIONS>) => {
    const [{ runRoutesCommand }, target] = await Promise.all([import('../commands/routes-command'), eslTargetOf(values, context)]);
    await runRoutesCommand(
      {
        action,
        target,
        groups: values.group ?? [],
        shares: values.share ?? [],
        percent: values.percent,
        json: values.json ?? false,
        allowSingleGroup: values['allow-single-group'],
        dryRun: values['dry-run'],
        confirm: context.confirm,
      },
      context.stdout,
    );
    return 0;
  };
  const routesActions = [
    ['show', 'the groups in failover order, with their state, share and first-choice percent of new calls', ROUTES_SHOW_OPTIONS],
    ['set', 'replace the table (shows the change first, and asks on a terminal)', ROUTES_SET_OPTIONS],
    ['drain', 'stop sending new calls to a group', ROUTES_GROUP_OPTIONS],
    ['restore', 'send new calls to a drained group again', ROUTES_GROUP_OPTIONS],
    ['share', "set or remove an active group's share of new calls (a canary)", ROUTES_SHARE_OPTIONS],
  ] as const;
  for (const [action, description, table] of routesActions) leaf(routes, action, description, table, routesAction(action));

  leaf(program, 'calls', 'active calls per call-control group', CALLS_OPTIONS, async (values) => {
    const groups = values.group ?? [];
    if (groups.length > 1) throw new UsageError('--group: at most one group for calls');
    const [{ runCallsCommand }, { parseGroupIdOption }, target] = await Promise.all([import('../commands/calls-command'), import('../commands/routes-command'), eslTargetOf(values, context)]);
    await runCallsCommand({ target, group: groups[0] === undefined ? undefined : parseGroupIdOption(groups[0]), json: values.json ?? false }, context.stdout);
    return 0;
  });

  const upgrade = leaf(
    program,
    'upgrade',
    'blue-green upgrade of call control: groups in the order given, media servers in parallel (--plan: show it, change nothing)',
    UPGRADE_OPTIONS,
    async (values) => {
      if (upgrade.args.length > 0) throw new UsageError(`upgrade: unknown command '${upgrade.args[0]}' (expected status, history or report, or the upgrade's options)`);
      const { runUpgradeCommand } = await import('../commands/upgrade-command');
      return runUpgradeCommand(values, { stdout: context.stdout, env: context.env, isTty: context.isTty ?? false, signal: context.signal });
    },
  );
  const upgradeRecords = <Table extends OptionTable>(action: 'status' | 'history' | 'report', description: string, table: Table) =>
    leaf(upgrade, action, description, table, async (values) => {
      const { runUpgradeRecordsCommand } = await import('../commands/upgrade-records-command');
      await runUpgradeRecordsCommand(action, values, { stdout: context.stdout, env: context.env });
      return 0;
    });
  upgradeRecords('status', 'the phase of each media server and group of an upgrade', UPGRADE_STATUS_OPTIONS);
  upgradeRecords('history', 'the most recent upgrades, newest first', UPGRADE_HISTORY_OPTIONS);
  upgradeRecords('report', 'one self-contained HTML page: drain curves, phases and the audit trail', UPGRADE_REPORT_OPTIONS);
  // After its subcommands, which must not inherit it: a word that is none of them gets the message above.
  upgrade.allowExcessArguments(true);

  leaf(program, 'inventory', 'write the fleet inventory that upgrade --inventory reads, from the topology and the stacks\' outputs', INVENTORY_OPTIONS, async (values) => {
    const { runInventoryCommand } = await import('../commands/inventory-command');
    runInventoryCommand(values, context.stdout);
    return 0;
  });

  leaf(program, 'demo', 'the whole runtime on this machine: upgrade blue, then green, under a steady call load (exit 1 if a call was dropped); --canary: a bad version caught and rolled back', DEMO_OPTIONS, async (values) => {
    const { runDemoCommand } = await import('../commands/demo-command');
    return runDemoCommand(values, { stdout: context.stdout, env: context.env, isTty: context.isTty ?? false, signal: context.signal });
  });

  const cds = program.command('cds').description('the Call Data Server');
  leaf(cds, 'serve', "run a site's CDS node", CDS_SERVE_OPTIONS, async (values) => {
    const [{ runCdsServeCommand }, { cdsServeRawOptions }, { withEslPassword }] = await Promise.all([
      import('../commands/cds-command'),
      import('../commands/cds-serve-options'),
      import('../commands/esl-password'),
    ]);
    await runCdsServeCommand(cdsServeRawOptions(withEslPassword(values, context.env), context.env), context.stdout, context.signal);
    return 0;
  }).addHelpText('after', `\n${CDS_SERVE_SECRETS_HELP}`);
  leaf(cds, 'keygen', "write a new site key to a file (mode 0600) and print its public key for the topology's cdsPublicKey", CDS_KEYGEN_OPTIONS, async (values) => {
    const { runCdsKeygenCommand } = await import('../commands/cds-keygen-command');
    runCdsKeygenCommand(values, context.stdout);
    return 0;
  });

  const sip = program.command('sip').description("a site's Kamailio nodes: their configuration and media-server maintenance");
  const sipAction = (action: SipAction) => async (values: OptionValues<typeof SIP_MAINTENANCE_OPTIONS> & OptionValues<typeof SIP_CONFIG_OPTIONS>) => {
    const [{ runSipCommand }, { eslPassword }, { SIP_RPC_TOKEN_VARIABLE }] = await Promise.all([
      import('../commands/sip-command'),
      import('../commands/esl-password'),
      import('../commands/secret-variables'),
    ]);
    await runSipCommand(
      {
        action,
        site: values.site,
        mediaServer: values['media-server'],
        topology: values.topology,
        out: values.out,
        rpc: values.rpc,
        rpcTokenFile: values['rpc-token-file'],
        rpcToken: context.env[SIP_RPC_TOKEN_VARIABLE],
        esl: values.esl,
        password: eslPassword(values, context.env),
        json: values.json,
      },
      context.stdout,
    );
    return 0;
  };
  const sipActions = [
    ['config', "write the site's kamailio.cfg and dispatcher.list", SIP_CONFIG_OPTIONS],
    ['drain', 'stop the SIP nodes sending new calls to a media server', SIP_MAINTENANCE_OPTIONS],
    ['undrain', 'send new calls to a drained media server again', SIP_MAINTENANCE_OPTIONS],
    ['status', "each SIP node's view of a media server", SIP_MAINTENANCE_OPTIONS],
  ] as const;
  for (const [action, description, table] of sipActions) leaf(sip, action, description, table, sipAction(action));

  const mediaServer = program.command('media-server').description("a media server's FreeSWITCH");
  leaf(mediaServer, 'config', "write the media server's whole FreeSWITCH configuration (what cloud-init installs)", MEDIA_SERVER_CONFIG_OPTIONS, async (values) => {
    const { runMediaServerCommand } = await import('../commands/media-server-command');
    runMediaServerCommand(
      {
        site: values.site,
        mediaServer: values['media-server'],
        topology: values.topology,
        out: values.out,
        loopback: values.loopback,
        eslPort: values['esl-port'],
        sipPort: values['sip-port'],
        rtpPorts: values['rtp-ports'],
      },
      context.stdout,
    );
    return 0;
  });

  const topology = program.command('topology').description('the topology file');
  leaf(topology, 'diagram', "draw the platform as SVG: data centers, sites, regions, peerings and which media servers each data center's groups serve", TOPOLOGY_DIAGRAM_OPTIONS, async (values) => {
    const { runTopologyCommand } = await import('../commands/topology-command');
    runTopologyCommand(values, context.stdout);
    return 0;
  });

  program
    .command('completion')
    .description(`print the shell completion script (bash: source <(voiceplane completion bash))`)
    .argument('<shell>', SHELLS.join(' or '))
    .action((shell: string) => {
      if (!SHELLS.includes(shell as Shell)) throw new UsageError(`completion: expected ${SHELLS.join(' or ')}, got ${shell}`);
      context.stdout.line(renderCompletionScript(program, shell as Shell));
      setExitCode(0);
    });

  return program;
}

async function eslTargetOf(values: { readonly esl?: string; readonly password?: string; readonly 'password-file'?: string }, context: CliContext) {
  const [{ parseEslTarget }, { eslPassword }] = await Promise.all([import('../commands/esl-target'), import('../commands/esl-password')]);
  return parseEslTarget(values.esl, eslPassword(values, context.env));
}
