import {
  addressRefusal,
  checkWebhookUrl,
  webhookUrlSchema,
} from '../../../../shared/domain/notify/webhook-url';

const PUBLIC_ONLY = { allowLoopback: false };
const table =
  (entries: Record<string, string[]>) =>
  (host: string): Promise<string[]> =>
    Promise.resolve(entries[host] ?? []);

describe('webhook URLs', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::7f00:1', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
    ['192.0.2.1', 'reserved'],
  ])('refuses %s (%s)', (address, range) => {
    expect(addressRefusal(address, PUBLIC_ONLY)).toBe(`is a ${range} address`);
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8'])(
    'accepts the public address %s',
    (address) => {
      expect(addressRefusal(address, PUBLIC_ONLY)).toBeUndefined();
    },
  );

  it('accepts loopback, and loopback only, under the test allowance', () => {
    const tests = { allowLoopback: true };
    expect(addressRefusal('127.0.0.1', tests)).toBeUndefined();
    expect(addressRefusal('::1', tests)).toBeUndefined();
    expect(addressRefusal('169.254.169.254', tests)).toBe('is a linkLocal address');
    expect(addressRefusal('10.0.0.1', tests)).toBe('is a private address');
  });

  it.each([
    ['http://hooks.example.com/x', 'must be an https URL'],
    ['https://user:pass@hooks.example.com/x', 'must not carry a user name or password'],
    ['https://token@hooks.example.com/x', 'must not carry a user name or password'],
    ['https://hooks.example.com/x#frag', 'must not have a fragment (#…)'],
    ['hooks.example.com/x', 'must be an absolute URL'],
    [`https://hooks.example.com/${'a'.repeat(2048)}`, 'must be at most 2048 characters'],
  ])('refuses the URL %s by its shape', (url, message) => {
    const parsed = webhookUrlSchema.safeParse(url);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toContain(message);
  });

  it('accepts an https URL with a port, path and query', () => {
    expect(webhookUrlSchema.safeParse('https://hooks.example.com:8443/in/gcs?team=data').success).toBe(true);
  });

  it.each([
    ['https://127.0.0.1/hook', 'is a loopback address'],
    ['https://169.254.169.254/computeMetadata/v1/', 'is a linkLocal address'],
    ['https://[::ffff:127.0.0.1]/hook', 'is a loopback address'],
    ['https://2130706433/hook', 'is a loopback address'],
    ['https://0x7f.1/hook', 'is a loopback address'],
    ['https://localhost/hook', 'is a loopback address'],
    ['https://metadata.google.internal/hook', 'is a linkLocal address'],
    ['https://mixed.example.com/hook', 'is a private address'],
    ['https://nowhere.example.com/hook', 'does not resolve to any address'],
  ])('refuses %s after resolving its host (422 webhookUrlRefused)', async (url, reason) => {
    const resolve = table({
      localhost: ['127.0.0.1'],
      'metadata.google.internal': ['169.254.169.254'],
      'mixed.example.com': ['8.8.8.8', '10.0.0.9'],
    });
    await expect(checkWebhookUrl(url, resolve, PUBLIC_ONLY)).rejects.toMatchObject({
      code: 'webhookUrlRefused',
      message: expect.stringContaining(reason) as unknown,
    });
  });

  it('accepts a host whose every address is public', async () => {
    const resolve = table({ 'hooks.example.com': ['8.8.8.8', '2001:4860:4860::8888'] });
    await expect(
      checkWebhookUrl('https://hooks.example.com/in', resolve, PUBLIC_ONLY),
    ).resolves.toBeUndefined();
  });
});
