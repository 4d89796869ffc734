import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../../../shared/domain/error-codes';
import { ERRORS_DOC, formattedErrorsDoc } from '../../support/docs';

describe('docs/ERRORS.md', () => {
  it('is the rendering of the error catalogue (run `npm run docs` after changing error-codes.ts)', () => {
    expect(readFileSync(ERRORS_DOC, 'utf8')).toBe(formattedErrorsDoc());
  });

  it('gives the customer-facing kinds the API statuses the product promises', () => {
    for (const spec of Object.values(ERROR_CODES)) {
      if (spec.kind === 'destination') expect(spec.httpStatus).toBe(422);
      if (spec.kind === 'input') expect(spec.httpStatus).toBeGreaterThanOrEqual(400);
      if (spec.kind === 'input') expect(spec.httpStatus).toBeLessThan(500);
    }
  });
});
