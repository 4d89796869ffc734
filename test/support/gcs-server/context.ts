import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PendingFault } from './faults';
import type { Operation } from './instructions';
import type { Store } from './store';
import type { Uploads } from './uploads';

export type UploadType = 'media' | 'multipart' | 'resumable';

export interface RequestLogEntry {
  method: string;
  /** Path and query, as received. */
  path: string;
  operation?: Operation;
  uploadType?: UploadType;
  /** The status answered; undefined when the connection was reset before any answer. */
  status?: number;
  /** 'reset': the connection was reset on purpose; 'broken': a response was cut short on purpose. */
  outcome: 'answered' | 'reset' | 'broken' | 'aborted';
  /** The Content-Range of a resumable upload PUT. */
  contentRange?: string;
  /** The fault instruction applied to this request, if any. */
  fault?: string;
  retryTestId?: string;
  /** The service account the request acted as (its bearer token), when it carried one. */
  principal?: string;
}

export interface GcsServerStats {
  requests: number;
  byOperation: Partial<Record<Operation, number>>;
  /** Objects created, by the upload type that created them. */
  uploads: Record<UploadType, number>;
  resumableSessions: number;
  /** PUT requests to resumable sessions, status queries included. */
  resumableChunkRequests: number;
}

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Scheme and host the client used, for selfLink/mediaLink/Location. */
  readonly baseUrl: string;
  readonly store: Store;
  readonly uploads: Uploads;
  readonly stats: GcsServerStats;
  readonly log: RequestLogEntry;
  /** A fault that only happens part-way (after N bytes); the handler applies it if it gets that far. */
  readonly fault?: PendingFault;
}
