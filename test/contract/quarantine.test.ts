import { randomUUID } from 'node:crypto';
import type { QuarantinedLine } from '../../shared/ports/quarantine.port';
import type { QuarantineUnderTest } from '../support/contract-adapters';
import { describeContract, quarantineSubjects } from '../support/contract-adapters';

const line = (n: number, raw = `{bad json ${n}`): QuarantinedLine => ({
  source: 'gs://platform-source/events/a.ndjson',
  line: n,
  lineBase: 'object',
  byteOffset: n * 100,
  reason: 'not JSON',
  raw,
});

describeContract<QuarantineUnderTest>('Quarantine', quarantineSubjects, (make) => {
  let subject: QuarantineUnderTest;
  beforeAll(async () => {
    subject = await make();
  });
  const runId = () => randomUUID().replace(/-/g, '').slice(0, 12);

  it('commits the lines of a chunk, in order, unicode intact, and says where they are', async () => {
    const run = runId();
    const writer = subject.quarantine.open(run, 3);
    const lines = [line(1), line(2, '{"name": "Grüße 😀", '), line(3)];
    for (const l of lines) await writer.add(l);
    const location = await writer.commit();
    expect(location).toContain(run);
    expect(subject.quarantine.locationOf(run)).toContain(run);
    expect(await subject.committed(run, 3)).toEqual(lines);
  });

  it('commits nothing when nothing was quarantined', async () => {
    const run = runId();
    expect(await subject.quarantine.open(run, 0).commit()).toBeUndefined();
    expect(await subject.committed(run, 0)).toBeUndefined();
  });

  it("replaces an earlier attempt's file when a retried chunk commits again", async () => {
    const run = runId();
    const first = subject.quarantine.open(run, 1);
    await first.add(line(1));
    await first.add(line(2));
    await first.commit();
    const retry = subject.quarantine.open(run, 1);
    await retry.add(line(2));
    await retry.commit();
    expect(await subject.committed(run, 1)).toEqual([line(2)]);
  });

  it('leaves no file, and the earlier one intact, when an attempt is aborted', async () => {
    const run = runId();
    const aborted = subject.quarantine.open(run, 2);
    await aborted.add(line(9));
    await aborted.abort();
    expect(await subject.committed(run, 2)).toBeUndefined();
    const committed = subject.quarantine.open(run, 2);
    await committed.add(line(1));
    await committed.commit();
    const abortedAgain = subject.quarantine.open(run, 2);
    await abortedAgain.add(line(5));
    await abortedAgain.abort();
    expect(await subject.committed(run, 2)).toEqual([line(1)]);
  });
});
