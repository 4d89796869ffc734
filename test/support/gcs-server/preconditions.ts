// Request preconditions (https://cloud.google.com/storage/docs/request-preconditions): ifGenerationMatch
// (0 = the object must not exist), ifGenerationNotMatch, ifMetagenerationMatch, ifMetagenerationNotMatch.
import { conditionNotMet, invalid } from './errors';

export interface Preconditions {
  ifGenerationMatch?: number;
  ifGenerationNotMatch?: number;
  ifMetagenerationMatch?: number;
  ifMetagenerationNotMatch?: number;
}

export interface Versioned {
  generation: number;
  metageneration: number;
}

const KEYS = [
  'ifGenerationMatch',
  'ifGenerationNotMatch',
  'ifMetagenerationMatch',
  'ifMetagenerationNotMatch',
] as const;

export function parsePreconditions(query: URLSearchParams): Preconditions {
  const out: Preconditions = {};
  for (const key of KEYS) {
    const raw = query.get(key);
    if (raw === null) continue;
    if (!/^\d+$/.test(raw)) throw invalid(`Invalid value for ${key}: ${raw}`);
    out[key] = Number(raw);
  }
  return out;
}

/** For writes and deletes every failed precondition is a 412 conditionNotMet. */
export function checkWrite(current: Versioned | undefined, p: Preconditions): void {
  if (failsMatch(current, p) || failsNotMatch(current, p)) throw conditionNotMet();
}

/** For reads a failed *NotMatch precondition answers 304 Not Modified; a failed *Match one 412. */
export function checkRead(current: Versioned, p: Preconditions): 'ok' | 'notModified' {
  if (failsMatch(current, p)) throw conditionNotMet();
  return failsNotMatch(current, p) ? 'notModified' : 'ok';
}

function failsMatch(current: Versioned | undefined, p: Preconditions): boolean {
  if (p.ifGenerationMatch !== undefined) {
    const ok = p.ifGenerationMatch === 0 ? !current : current?.generation === p.ifGenerationMatch;
    if (!ok) return true;
  }
  if (p.ifMetagenerationMatch !== undefined) {
    const ok = p.ifMetagenerationMatch === 0 ? !current : current?.metageneration === p.ifMetagenerationMatch;
    if (!ok) return true;
  }
  return false;
}

function failsNotMatch(current: Versioned | undefined, p: Preconditions): boolean {
  if (p.ifGenerationNotMatch !== undefined) {
    const ok = p.ifGenerationNotMatch === 0 ? !!current : current?.generation !== p.ifGenerationNotMatch;
    if (!ok) return true;
  }
  if (p.ifMetagenerationNotMatch !== undefined) {
    const ok =
      p.ifMetagenerationNotMatch === 0 ? !!current : current?.metageneration !== p.ifMetagenerationNotMatch;
    if (!ok) return true;
  }
  return false;
}
