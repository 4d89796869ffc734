import { createRequire } from 'node:module';
import type { StorageOptions } from '@google-cloud/storage';
import type { OAuth2Client } from 'google-auth-library';
import type { AccessToken } from '../../ports/principals.port';
import { IdempotencyStrategy, Storage } from '@google-cloud/storage';
import type { ServiceAccountKey } from '../../domain/destinations/destination.schema';
import type { StorageRetrySettings } from './storage-settings';

export type { StorageRetrySettings } from './storage-settings';

function retryOptions(settings: StorageRetrySettings) {
  return {
    autoRetry: true,
    maxRetries: settings.maxRetries,
    retryDelayMultiplier: 2,
    maxRetryDelay: settings.maxRetryDelaySeconds,
    totalTimeout: settings.totalTimeoutSeconds,
    // Retry only what is idempotent, or made so by a precondition (every write of ours has ifGenerationMatch: 0).
    idempotencyStrategy: IdempotencyStrategy.RetryConditional,
  };
}

/** The platform's own client (source and quarantine buckets), on the function's service account. */
export function platformStorage(projectId: string, retry: StorageRetrySettings): Storage {
  return new Storage({ projectId, retryOptions: retryOptions(retry) });
}

type TransporterOptions = NonNullable<
  Extract<
    NonNullable<StorageOptions['clientOptions']>,
    { transporterOptions?: unknown }
  >['transporterOptions']
>;

/** The token endpoints google-auth-library posts a key's signed assertion to (its versions differ). */
const GOOGLE_TOKEN_ENDPOINTS = new Set([
  'https://oauth2.googleapis.com/token',
  'https://www.googleapis.com/oauth2/v4/token',
]);

/**
 * Emulators only: sends the key's token exchange to `tokenUrl` instead of Google, so that a test server can refuse
 * a key or tell keys apart by the tokens it issued. Every other request of the auth client passes unchanged.
 */
function exchangeTokensAt(tokenUrl: string): TransporterOptions {
  return {
    adapter: (options, next) =>
      next(GOOGLE_TOKEN_ENDPOINTS.has(String(options.url)) ? { ...options, url: tokenUrl } : options),
  };
}

export interface CustomerAuthSettings {
  /** Set only against an emulator (STORAGE_EMULATOR_TOKEN_URL): customer clients then authenticate to it too. */
  emulatorTokenUrl?: string;
  /** Emulators only (IAM_EMULATOR_URL): principals' clients send their tokens to the emulator too. */
  principalsToEmulator?: boolean;
  /** Tests only: the Storage API's base URL for principals' clients (else Google's, or STORAGE_EMULATOR_HOST). */
  apiEndpoint?: string;
}

/** A client that acts as the customer's service account only: the key lives in this object, in memory. */
export function customerStorage(
  key: ServiceAccountKey,
  retry: StorageRetrySettings,
  auth: CustomerAuthSettings = {},
): Storage {
  return new Storage({
    projectId: key.project_id,
    credentials: { client_email: key.client_email, private_key: key.private_key },
    retryOptions: retryOptions(retry),
    ...(auth.emulatorTokenUrl === undefined
      ? {}
      : {
          useAuthWithCustomEndpoint: true,
          clientOptions: { transporterOptions: exchangeTokensAt(auth.emulatorTokenUrl) },
        }),
  });
}

/**
 * The OAuth2Client class of the google-auth-library the Storage client itself depends on (a different major than
 * ours): Storage recognises only its own library's clients, whose request headers it knows how to read.
 */
const StorageOAuth2Client = (
  createRequire(require.resolve('@google-cloud/storage'))('google-auth-library') as {
    OAuth2Client: typeof OAuth2Client;
  }
).OAuth2Client;

/**
 * A client that acts as an account principal (a grant destination): its bearer tokens come from `token` (the
 * principal directory's generateAccessToken, cached there), asked again whenever the current one nears its expiry.
 * No key exists: nothing secret but the short-lived token is ever in this object.
 */
export function principalStorage(
  token: () => Promise<AccessToken>,
  retry: StorageRetrySettings,
  auth: CustomerAuthSettings = {},
): Storage {
  const client = new StorageOAuth2Client();
  client.refreshHandler = async () => {
    const minted = await token();
    return { access_token: minted.token, expiry_date: minted.expiresAt.getTime() };
  };
  const emulated =
    auth.emulatorTokenUrl !== undefined ||
    auth.principalsToEmulator === true ||
    auth.apiEndpoint !== undefined;
  return new Storage({
    authClient: client as unknown as NonNullable<StorageOptions['authClient']>,
    retryOptions: retryOptions(retry),
    ...(auth.apiEndpoint === undefined ? {} : { apiEndpoint: auth.apiEndpoint }),
    ...(emulated ? { useAuthWithCustomEndpoint: true } : {}),
  });
}
