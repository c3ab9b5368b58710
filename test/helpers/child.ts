import { spawn, type SpawnOptions } from 'node:child_process';

export interface ChildResult {
  /** Exit code, or null when a signal (or the timeout) ended it. */
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * spawnSync's result without blocking the event loop, so that a file's child processes can run
 * side by side (`describe(…, { concurrent: true })`): most of a CLI run is node starting and
 * modules loading, one core each.
 */
export function runChild(command: string, args: string[], options: SpawnOptions & { timeout?: number } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    // stdin an empty pipe, as spawnSync gives it (`script` reads its end).
    const child = spawn(command, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.end();
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
    const timer = options.timeout === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeout);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
