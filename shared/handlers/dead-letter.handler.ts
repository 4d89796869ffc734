import type { ExportContext } from '../domain/context';
import { failDeadLetteredChunk, failDeadLetteredRequest } from '../domain/export/dead-letter';
import { parseExportRequest } from '../domain/export-request';
import { parseWithSchema } from '../domain/schema';
import type { Delivery } from '../ports/bus.port';
import { chunkTaskSchema } from './messages';
import { recordRejection } from './rejections';

export async function handleDeadLetter(
  ctx: ExportContext,
  payload: unknown,
  delivery: Delivery,
): Promise<void> {
  const count = Number(delivery.attributes.CloudPubSubDeadLetterSourceDeliveryCount ?? Number.NaN);
  const attempts = Number.isFinite(count) ? count : undefined;
  // Chunk tasks and export requests share the dead-letter topic; each kind is recognised by its schema.
  const task = parseWithSchema(chunkTaskSchema, payload);
  if (task.ok) {
    await failDeadLetteredChunk(ctx, task.value.runId, task.value.chunk, attempts);
    return;
  }
  const request = parseExportRequest(payload);
  if (request.ok) {
    if (!(await failDeadLetteredRequest(ctx, request.value, attempts))) {
      await recordRejection(ctx, delivery, payload, [
        `the request could not be processed in ${attempts ?? 'the maximum number of'} delivery attempts`,
      ]);
    }
    return;
  }
  await recordRejection(ctx, delivery, payload, task.violations);
}
