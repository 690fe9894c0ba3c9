// GNU make's fast path for recipe lines: a line with nothing for the shell to do (no quoting,
// expansion, redirection, globbing, compound command or builtin) is run as a plain command,
// without starting /bin/sh first. Make does this for its own lines when SHELL is /bin/sh; `sluice
// make` replaces SHELL with the recipe shell, so the worker applies the same rule. It saves one
// process start per recipe (about a third of a no-op recipe's cost on the worker).

/** Shell builtins and keywords: a line starting with one needs the shell (make's sh_cmds, and more). */
const SHELL_WORDS = new Set(
  (
    '. : [ [[ ! { } alias bg break case cd command continue do done echo elif else esac eval exec exit ' +
    'export false fc fg fi for function getopts hash if in jobs kill let local login logout printf pwd ' +
    'read readonly return select set shift source test then time times trap true type typeset ulimit ' +
    'umask unalias unset until wait while'
  ).split(' '),
);

/** Characters the shell gives a meaning to are refused; only these plain ones are allowed. */
const PLAIN = /^[A-Za-z0-9_./,:+@%=-]+$/;

/**
 * The argv to exec for `[shell, ...flags, line]` when the line needs no shell, else undefined.
 * Only for /bin/sh with make's default flags (`-c`, or `-ec` under .POSIX).
 */
export function directCommand(argv: readonly string[]): string[] | undefined {
  if (argv.length !== 3 || argv[0] !== '/bin/sh' || (argv[1] !== '-c' && argv[1] !== '-ec')) return undefined;
  const words = (argv[2] as string).split(/[ \t]+/).filter((w) => w !== '');
  const first = words[0];
  if (!first || SHELL_WORDS.has(first) || first.includes('=')) return undefined;
  return words.every((w) => PLAIN.test(w)) ? words : undefined;
}
