import { keyInputSchema } from '../../../shared/api/schemas';
import { parseServiceAccountKey } from '../../../shared/domain/destinations/destination.schema';
import { serviceAccountKey } from '../../support/service-account-key';

describe('the wire schemas', () => {
  it('handles "__proto__" in a key object like the same key sent as text: refused, never dropped', () => {
    const text = serviceAccountKey().replace(/^\{/, '{"__proto__":{"x":1},');
    const object = JSON.parse(text) as unknown;
    const asText = parseServiceAccountKey(keyInputSchema.parse(text));
    const asObject = parseServiceAccountKey(keyInputSchema.parse(object));
    expect(asText.ok).toBe(false);
    expect(asObject).toEqual(asText);
  });
});
