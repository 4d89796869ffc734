import { createHash } from 'node:crypto';
import { inputError } from '../domain/errors';

/** A strong entity tag of a representation: the same JSON, the same tag. */
export function etagOf(representation: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(representation)).digest('base64url');
  return `"${digest.slice(0, 27)}"`;
}

/**
 * RFC 9110 §13.1.1: an absent If-Match holds (it is optional: no 428), `*` holds for any current representation,
 * otherwise one of its tags must equal the current one by strong comparison (a weak `W/` tag never does).
 */
export function ifMatchHolds(ifMatch: string | undefined, current: string): boolean {
  if (ifMatch === undefined) return true;
  return ifMatch
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === current);
}

/** Throws 412 preconditionFailed unless If-Match holds for the representation. Echoes no tag. */
export function requireMatch(ifMatch: string | undefined, representation: unknown): void {
  if (!ifMatchHolds(ifMatch, etagOf(representation)))
    throw inputError(
      'preconditionFailed',
      'If-Match names no current version of this resource; read it again',
    );
}
