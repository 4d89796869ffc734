import { memoryRow } from '../../../../shared/cli/commands/bench';

const run = (peakRssMiB: number, seconds = 1) => ({
  records: 10,
  files: 2,
  chunks: 1,
  seconds,
  peakRssMiB,
  peakHeapMiB: 20,
  peakBuffersMiB: 5,
});

describe('memoryRow', () => {
  it('reports the median peak RSS of the runs with their range, and keeps every run', () => {
    const runs = [run(250, 3), run(221, 1), run(296, 2)];
    const row = memoryRow('parquet', 208.7, runs);
    expect(row).toMatchObject({
      format: 'parquet',
      sourceMiB: 208.7,
      peakRssMiB: 250,
      peakRssMinMiB: 221,
      peakRssMaxMiB: 296,
      // The other figures are those of the run whose peak is the median.
      seconds: 3,
    });
    expect(row.runs).toEqual(runs);
  });

  it('takes the mean of the two middle peaks for an even number of runs', () => {
    const row = memoryRow('jsonl', 32, [run(150), run(160), run(170), run(400)]);
    expect(row.peakRssMiB).toBe(165);
    expect([row.peakRssMinMiB, row.peakRssMaxMiB]).toEqual([150, 400]);
  });

  it('is the run itself for one run', () => {
    expect(memoryRow('csv', 32, [run(171.3)])).toMatchObject({ peakRssMiB: 171.3, peakRssMaxMiB: 171.3 });
  });
});
