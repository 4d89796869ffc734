import { randomUUID } from 'node:crypto';
import type { Delivery } from '../../shared/ports/bus.port';
import type { BusUnderTest } from '../support/contract-adapters';
import { busSubjects, describeContract } from '../support/contract-adapters';
import { pollUntil } from '../support/poll';

const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

describeContract<BusUnderTest>('Bus', busSubjects, (make) => {
  let subject: BusUnderTest;
  beforeAll(async () => {
    subject = await make();
  });

  it('delivers what was published: JSON data and attributes', async () => {
    const topic = unique('deliver');
    const received: { payload: unknown; delivery: Delivery }[] = [];
    await subject.subscribe(
      topic,
      (payload, delivery) => Promise.resolve(received.push({ payload, delivery })),
      {
        maxDeliveryAttempts: 5,
      },
    );
    await subject.bus.publish(topic, [
      { data: { n: 1, text: 'Grüße 😀' }, attributes: { runId: 'r1' } },
      { data: { n: 2 } },
    ]);
    await pollUntil('two deliveries', () => Promise.resolve(received.length >= 2 ? true : undefined));
    const byN = received
      .map((r) => r.payload)
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(byN).toEqual([{ n: 1, text: 'Grüße 😀' }, { n: 2 }]);
    expect(received.find((r) => (r.payload as { n: number }).n === 1)?.delivery.attributes).toMatchObject({
      runId: 'r1',
    });
  });

  it('redelivers a message whose handler failed, until it succeeds', async () => {
    const topic = unique('redeliver');
    let attempts = 0;
    let succeeded = false;
    await subject.subscribe(
      topic,
      () => {
        attempts += 1;
        if (attempts < 3) return Promise.reject(new Error(`failure ${attempts}`));
        succeeded = true;
        return Promise.resolve();
      },
      { maxDeliveryAttempts: 10, deadLetterTopic: unique('redeliver-dlq') },
    );
    await subject.bus.publish(topic, [{ data: { job: 'flaky' } }]);
    await pollUntil(
      'the third attempt to succeed',
      () => Promise.resolve(succeeded ? true : undefined),
      30_000,
    );
    expect(attempts).toBe(3);
  });

  it('dead-letters a message after the maximum delivery attempts, with the source delivery count', async () => {
    const topic = unique('poison');
    const deadLetterTopic = unique('poison-dlq');
    let attempts = 0;
    const deadLetters: { payload: unknown; delivery: Delivery }[] = [];
    await subject.subscribe(
      topic,
      () => {
        attempts += 1;
        return Promise.reject(new Error('poison'));
      },
      { maxDeliveryAttempts: 5, deadLetterTopic },
    );
    await subject.subscribe(
      deadLetterTopic,
      (payload, delivery) => Promise.resolve(deadLetters.push({ payload, delivery })),
      { maxDeliveryAttempts: 5 },
    );
    await subject.bus.publish(topic, [{ data: { job: 'poison' }, attributes: { runId: 'r9' } }]);
    const [dead] = await pollUntil(
      'the dead letter',
      () => Promise.resolve(deadLetters.length > 0 ? deadLetters : undefined),
      60_000,
    );
    expect(attempts).toBe(5);
    expect(dead?.payload).toEqual({ job: 'poison' });
    expect(dead?.delivery.attributes).toMatchObject({
      runId: 'r9',
      CloudPubSubDeadLetterSourceDeliveryCount: '5',
    });
  });
});
