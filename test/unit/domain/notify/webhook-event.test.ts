import { NOTICE_EVENTS, webhookEventSchema } from '../../../../shared/domain/notify/webhook-event';

describe('webhook events', () => {
  it('names one event type per notice', () => {
    expect(NOTICE_EVENTS).toEqual({
      notice1: 'export.failing',
      notice2: 'export.stopping',
      notice3: 'export.stopped',
      recovered: 'export.recovered',
    });
  });

  it("takes a body of its own type only, with the data's fields and no other", () => {
    const data = { accountId: 'a', exportId: 'e', summary: 's', fixUrl: 'https://x.example/' };
    const body = { type: 'export.stopped', timestamp: '2026-03-04T00:00:00.000Z', data };
    expect(webhookEventSchema('export.stopped').safeParse(body).success).toBe(true);
    expect(webhookEventSchema('export.failing').safeParse(body).success).toBe(false);
    expect(
      webhookEventSchema('export.stopped').safeParse({ ...body, data: { ...data, key: 'x' } }).success,
    ).toBe(false);
  });
});
