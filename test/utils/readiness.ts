/** `/ready`'s answer: each part up or down, with the reason and since when for those down. */
export interface ReadyBody {
  status: string;
  ready: boolean;
  checks: Record<string, string>;
  details: Record<string, { reason: string; since: string | null }>;
  /** This instance's role (LEADER without Redis, or as elected). */
  info: { role: string };
}

export interface ReadyAnswer {
  status: number;
  body: ReadyBody;
}

/** One `/ready` request to a server's base URL. */
export async function ready(server: { baseUrl: string }): Promise<ReadyAnswer> {
  const response = await fetch(`${server.baseUrl}/ready`);
  return { status: response.status, body: (await response.json()) as ReadyBody };
}

/**
 * Asks `/ready` again until `predicate` holds (bounded; readiness has no event to await from
 * outside the process) and returns the last answer, which the caller asserts on.
 */
export async function readyUntil(
  server: { baseUrl: string },
  predicate: (answer: ReadyAnswer) => boolean,
  timeoutMs = 30_000,
): Promise<ReadyAnswer> {
  const deadline = Date.now() + timeoutMs;
  let answer = await ready(server);
  while (!predicate(answer) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    answer = await ready(server);
  }
  return answer;
}
