import * as functions from '@google-cloud/functions-framework';
import { handleCheckFailures } from '../shared/handlers/check-failures.handler';
import { handleChunkTask } from '../shared/handlers/chunk-task.handler';
import { handleDeadLetter } from '../shared/handlers/dead-letter.handler';
import { handleExportRequest } from '../shared/handlers/export-request.handler';
import { apiFunction } from './api-function';
import { ownRequestBodies } from './own-request-bodies';
import { pubsubFunction } from './pubsub-function';

// One entry point per Cloud Function (as functions/entry-points.ts lists them); all logic lives in shared/.
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
