// The synchronous trainer runs one long loop on the main thread; Node only delivers SIGINT (Ctrl-C)
// to its handler between event-loop turns. Awaiting this once per environment step lets the
// handler run, at a cost of microseconds against steps of milliseconds.
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
