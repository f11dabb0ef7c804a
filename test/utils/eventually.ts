/**
 * Resolves once the async `condition` holds, asked every 100 ms (for state another process
 * holds, read over HTTP: a server's /ready, /metrics, an admin query); a condition that throws
 * counts as not yet. Rejects, naming `label`, after `ms`.
 */
export async function eventually(
  condition: () => Promise<boolean>,
  label: string,
  ms = 60_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${label}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
