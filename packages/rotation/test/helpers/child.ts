import { spawn } from 'node:child_process';
/** What a child run ended with. */
export interface ChildRun {
  /** True when the test killed it. */
  readonly killed: boolean;
  /** The final report, when it finished. */
  readonly report: Record<string, unknown> | undefined;
  readonly stderr: string;
  readonly code: number | null;
}

/**
 * Start `node script` with `env`; when `killAfterProgress` is a number, SIGKILL the child once it
 * has printed that many progress lines plus `extraDelayMs` (so the kill lands anywhere: inside a
 * transform, a commit, a checkpoint save, or the final swap).
 */
export function runChild(script: string, env: Record<string, string>, kill?: { afterProgress: number; extraDelayMs: number }): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let progress = 0;
    let killed = false;
    let timer: NodeJS.Timeout | undefined;
    const killNow = () => {
      if (child.exitCode === null && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    const arm = () => {
      if (kill === undefined || timer !== undefined || killed) return;
      if (progress >= kill.afterProgress) timer = setTimeout(killNow, kill.extraDelayMs);
    };
    arm();
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      progress = out.split('\n').filter((l) => l.startsWith('progress ')).length;
      arm();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('report '));
      resolve({ killed: killed && signal === 'SIGKILL', report: line ? (JSON.parse(line.slice(7)) as Record<string, unknown>) : undefined, stderr: err, code });
    });
  });
}
