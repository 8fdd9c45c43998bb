/** Runs the `scitt` CLI from source as a subprocess, as a user would (no build needed). */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI from source as a subprocess (no build needed), killed after 20 s. */
export async function scitt (...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/client/src/cli.ts', ...args], {
      cwd: ROOT, timeout: 20_000, encoding: 'utf8', maxBuffer: 16 << 20,
    }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}
