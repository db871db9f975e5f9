/**
 * Runs `fn` over `items` with at most `limit` calls in flight, in item order of start.
 * Stops starting new calls after the first failure and rethrows it once the calls in
 * flight have settled, so no work continues behind the caller's back.
 */
export async function forEachBounded<T>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  for await (const item of items) {
    if (failure) break;
    signal?.throwIfAborted();
    const p: Promise<void> = fn(item).then(
      () => {
        running.delete(p);
      },
      (err) => {
        running.delete(p);
        failure ??= { err };
      },
    );
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw failure.err;
}
