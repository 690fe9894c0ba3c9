// vitest globalSetup: the tests use system tools as third-party judges and runtimes (python3 for
// Python algorithms, unzip/zipinfo to check zip archives, lz4 and GNU tar for fetch, make and a C
// compiler for `sluice make`, Debian's chromium for the dashboard). A missing one stops the run
// before any test, with one message naming it and the package to install, instead of failing
// tests one by one with ENOENT.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const TOOLS: [command: string, debianPackage: string][] = [
  ['python3', 'python3'],
  ['zip', 'zip'],
  ['unzip', 'unzip'],
  ['zipinfo', 'unzip'],
  ['lz4', 'lz4'],
  ['tar', 'tar'],
  ['make', 'make'],
  ['cc', 'gcc'],
];

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(): void {
  const missing = TOOLS.filter(([command]) => !onPath(command));
  if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) missing.push(['chromium', 'chromium']);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map(([, p]) => p))].join(' ');
  throw new Error(
    `the tests need ${missing.map(([c]) => c).join(', ')}, not found on this machine: ` +
      `sudo apt-get install ${packages} (.ci/run installs them on a clean clone)`,
  );
}
