import type { Command } from 'commander';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

/** A command as completion sees it: its words, and its flags split by whether a value follows them. */
interface CompletionEntry {
  /** The subcommand words from the program, e.g. `routes set` ('' for the program itself). */
  readonly path: string;
  readonly words: readonly string[];
  readonly valueFlags: readonly string[];
}

function completionEntries(command: Command, path = ''): CompletionEntry[] {
  const subcommands = command.commands.filter((sub) => sub.name() !== 'help');
  const flags = command.options.flatMap((option) => (option.long ? [{ flag: option.long, takesValue: option.required || option.optional }] : []));
  const entry = {
    path,
    words: [...subcommands.map((sub) => sub.name()), ...flags.map(({ flag }) => flag), '--help'],
    valueFlags: flags.filter(({ takesValue }) => takesValue).map(({ flag }) => flag),
  };
  return [entry, ...subcommands.flatMap((sub) => completionEntries(sub, path === '' ? sub.name() : `${path} ${sub.name()}`))];
}

/**
 * The completion script of a command tree. Bash completes subcommands and flags of the command being typed and leaves
 * a flag's value to the shell's file completion; zsh runs the same function through its bash compatibility.
 */
export function renderCompletionScript(program: Command, shell: Shell): string {
  const name = program.name();
  const entries = completionEntries(program);
  const functionName = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  const commandCases = entries
    .filter((entry) => entry.path !== '')
    .map((entry) => `      ${JSON.stringify(entry.path)}) path=${JSON.stringify(entry.path)} ;;`)
    .join('\n');
  const wordCases = entries.map((entry) => `    ${JSON.stringify(entry.path)}) words=${JSON.stringify(entry.words.join(' '))}; value_flags=${JSON.stringify(` ${entry.valueFlags.join(' ')} `)} ;;`).join('\n');
  const bash = `${functionName}() {
  local path="" word i words="" value_flags=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "\${path:+\$path }\$word" in
${commandCases}
    esac
  done
  case "\$path" in
${wordCases}
  esac
  if [[ "\$value_flags" == *" \${COMP_WORDS[COMP_CWORD-1]} "* ]]; then
    COMPREPLY=()
    return
  fi
  COMPREPLY=($(compgen -W "\$words" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F ${functionName} ${name}`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}
