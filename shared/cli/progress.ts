import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  start(total: number): void;
  tick(): void;
  stop(): void;
}

/** A chunk progress bar on stderr, shown only to a person at a terminal (never in CI logs or pipes). */
export function chunkProgress(enabled = process.stderr.isTTY): Progress | undefined {
  if (!enabled) return undefined;
  const bar = new SingleBar(
    {
      format: 'chunks {bar} {value}/{total} | {percentage}% | {duration_formatted}',
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    start: (total) => {
      if (started) return;
      started = true;
      bar.start(total, 0);
    },
    tick: () => bar.increment(),
    stop: () => {
      if (started) bar.stop();
    },
  };
}
