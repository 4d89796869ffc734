import * as functions from '@google-cloud/functions-framework';
import { handleChunkTask, handleDeadLetter, handleExportRequest } from '../shared/handlers/handlers';
import { pubsubFunction } from './pubsub-function';

// One entry point per Cloud Function; all logic lives in shared/.
functions.cloudEvent('planExport', pubsubFunction('planExport', handleExportRequest));
functions.cloudEvent('writeChunk', pubsubFunction('writeChunk', handleChunkTask));
functions.cloudEvent('deadLetter', pubsubFunction('deadLetter', handleDeadLetter));
