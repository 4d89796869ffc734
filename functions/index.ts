import * as functions from '@google-cloud/functions-framework';
import { handleCheckFailures } from '../shared/handlers/check-failures.handler';
import { handleChunkTask } from '../shared/handlers/chunk-task.handler';
import { handleDeadLetter } from '../shared/handlers/dead-letter.handler';
import { handleExportRequest } from '../shared/handlers/export-request.handler';
import { apiFunction } from './api-function';
import { ownRequestBodies } from './own-request-bodies';
import { pubsubFunction } from './pubsub-function';

/**
 * The entry points that encrypt or decrypt customers' service-account keys: only they are given the key-encryption
 * keys (terraform/main.tf mounts them; a drift test compares). Another function that tried would fail loudly.
 */
export const USES_CUSTOMER_KEYS: readonly string[] = ['planExport', 'writeChunk', 'checkFailures', 'api'];

// One entry point per Cloud Function; all logic lives in shared/.
functions.cloudEvent(
  'planExport',
  pubsubFunction('planExport', (rt, payload, delivery) => handleExportRequest(rt.ctx, payload, delivery)),
);
functions.cloudEvent(
  'writeChunk',
  pubsubFunction('writeChunk', (rt, payload, delivery) => handleChunkTask(rt.ctx, payload, delivery)),
);
functions.cloudEvent(
  'deadLetter',
  pubsubFunction('deadLetter', (rt, payload, delivery) => handleDeadLetter(rt.ctx, payload, delivery)),
);
functions.cloudEvent('checkFailures', pubsubFunction('checkFailures', handleCheckFailures));
functions.http('api', apiFunction);
ownRequestBodies(apiFunction);
