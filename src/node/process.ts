/**
 * Node-only helpers shared by the trainer, the CLI and the extension host (src/node: may use Node's APIs, imports
 * src/core and src/protocol only; never VS Code or the ML runtimes).
 */

/** Whether a process with this id exists on this machine (EPERM: it exists but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
