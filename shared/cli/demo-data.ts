import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Rng } from './seeded-random';
import { mulberry32 } from './seeded-random';

export interface DemoSourceOptions {
  /** Folder to write objects into (created, recursive). Object names are relative paths under it. */
  dir: string;
  /** Total number of valid event lines to generate. */
  events: number;
  /** Window start (inclusive), UTC. */
  from: Date;
  /** Events are spread uniformly over [from, from + days*24h). */
  days: number;
  /** Same options => byte-identical files. */
  seed: number;
  /** Extra malformed lines, default 24. */
  malformedLines?: number;
}

export interface DemoSourceObject {
  name: string;
  /** Size on disk (compressed size for gzip objects). */
  bytes: number;
  gzip: boolean;
  /** Newline-terminated lines in the (uncompressed) content: valid, malformed and blank. */
  lines: number;
}

export interface DemoSourceResult {
  objects: DemoSourceObject[];
  sourceRecords: number;
  malformedLines: number;
  bytes: number;
  eventNames: string[];
}

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };
type Platform = 'Android' | 'iOS' | 'Web';

interface DemoProfile {
  identity: string;
  email?: string;
  platform: Platform;
}

interface TimeWindow {
  endMs: number;
  minSec: number;
  maxSec: number;
}

interface ExtraLine {
  at: number;
  line: string;
}

interface ObjectPlan {
  name: string;
  gzip: boolean;
  seconds: Float64Array;
  extras: ExtraLine[];
}

const DEFAULT_MALFORMED_LINES = 24;
const BLANK_LINES = 3;
const BACKFILL_SHARE = 0.25;
const BACKFILL_OBJECT = 'events/backfill/large-000.ndjson';
const GZIP_HOUR_SHARE = 0.3;
const ISO_TIME_SHARE = 0.1;
const MIN_EVENTS_PER_NAME = 50;
// Caps hourly parts at a few MB even when many events land in few hours.
const MAX_EVENTS_PER_PART = 20_000;
const WRITES_IN_FLIGHT = 4;
const SECONDS_PER_HOUR = 3600;
const MS_PER_DAY = 86_400_000;

const NAME_WEIGHTS: readonly (readonly [string, number])[] = [
  ['App Launched', 30],
  ['Product Viewed', 22],
  ['Added To Cart', 10],
  ['Search Performed', 8],
  ['Charged', 6],
  ['Notification Clicked', 5],
  ['Checkout/Started', 4],
  ['UTM Visited', 3],
  ['Wishlist Item Added', 2],
  ['App Uninstalled', 1],
  ['Tab\tSwitched', 1],
  ['खरीदारी पूरी', 2],
  ['تم الشراء', 1.5],
  ['장바구니 추가', 1.5],
  ['購入完了', 1.5],
  ['Rated ⭐ 5', 1],
  ['🎉 Promo Clicked', 2],
  ['Bell\u0007Rung', 0.3],
  ['Null\u0000Byte', 0.3],
  ['..', 0.3],
];

export const DEMO_EVENT_NAMES: readonly string[] = Object.freeze(NAME_WEIGHTS.map(([name]) => name));

const NAME_CUMULATIVE_WEIGHTS: readonly number[] = cumulative(NAME_WEIGHTS.map(([, weight]) => weight));

function cumulative(weights: readonly number[]): number[] {
  let sum = 0;
  return weights.map((weight) => (sum += weight));
}

function randomInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

function pick<T>(rng: Rng, values: readonly T[]): T {
  return values[Math.floor(rng() * values.length)];
}

function money(rng: Rng, max: number): number {
  return Math.round(rng() * max * 100) / 100;
}

function weightedNameIndex(rng: Rng): number {
  const total = NAME_CUMULATIVE_WEIGHTS[NAME_CUMULATIVE_WEIGHTS.length - 1];
  const target = rng() * total;
  const index = NAME_CUMULATIVE_WEIGHTS.findIndex((upTo) => target < upTo);
  return index === -1 ? NAME_CUMULATIVE_WEIGHTS.length - 1 : index;
}

function shuffle(rng: Rng, values: Uint8Array): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const held = values[i];
    values[i] = values[j];
    values[j] = held;
  }
}

/**
 * One name index per valid event: skewed by weight, but every name is reserved a floor of occurrences
 * (50 from 10k events up) so rare, awkward names are always exercised.
 */
function planEventNames(rng: Rng, events: number): Uint8Array {
  const floorPerName = Math.min(MIN_EVENTS_PER_NAME, Math.floor(events * 0.005));
  const names = new Uint8Array(events);
  let next = 0;
  for (let nameIndex = 0; nameIndex < DEMO_EVENT_NAMES.length; nameIndex++) {
    for (let n = 0; n < floorPerName; n++) names[next++] = nameIndex;
  }
  for (; next < events; next++) names[next] = weightedNameIndex(rng);
  shuffle(rng, names);
  return names;
}

const FIRST_NAMES = ['aarav', 'priya', 'omar', 'fatima', 'minjun', 'yui', 'john', 'maria', 'chen', 'ana'];
const LAST_NAMES = ['sharma', 'khan', 'kim', 'tanaka', 'smith', 'garcia', 'li', 'silva'];
const EMAIL_DOMAINS = ['example.com', 'example.org', 'mail.test', 'demo.invalid'];

function randomPlatform(rng: Rng): Platform {
  const roll = rng();
  if (roll < 0.55) return 'Android';
  return roll < 0.85 ? 'iOS' : 'Web';
}

function randomIdentity(rng: Rng): string {
  if (rng() < 0.3) return `+91${randomInt(rng, 6_000_000_000, 9_999_999_999)}`;
  const high = Math.floor(rng() * 0x1_0000_0000).toString(16);
  const low = Math.floor(rng() * 0x1_0000).toString(16);
  return `u_${high.padStart(8, '0')}${low.padStart(4, '0')}`;
}

function randomProfile(rng: Rng): DemoProfile {
  const identity = randomIdentity(rng);
  const platform = randomPlatform(rng);
  if (rng() >= 0.8) return { identity, platform };
  const email = `${pick(rng, FIRST_NAMES)}.${pick(rng, LAST_NAMES)}${randomInt(rng, 1, 999)}@${pick(rng, EMAIL_DOMAINS)}`;
  return { identity, email, platform };
}

function buildProfiles(rng: Rng, events: number): DemoProfile[] {
  const size = Math.max(1, Math.min(20_000, Math.ceil(events / 10)));
  return Array.from({ length: size }, () => randomProfile(rng));
}

const CATEGORIES = [
  'Electronics',
  'Home & Kitchen',
  'Books',
  'Fashion/Men',
  'Fashion/Women',
  'Beauty',
  'Toys',
];
const REVIEW_TEXTS = [
  'Great product!\nWould buy again 😊',
  'Fast delivery\tfive stars ⭐⭐⭐⭐⭐',
  'Not bad',
  'बहुत अच्छा 👍',
  'Packaging was damaged.\nRefund requested.',
  '配送が早い',
];
const PRODUCT_NAMES = [
  'Wireless Earbuds Pro',
  'Cotton Kurta (Blue)',
  'Stainless Steel Bottle 1L',
  '전기 주전자',
  'Yoga Mat',
];
const LANDING_PAGES = [
  '/sale/diwali?utm_source=google&utm_medium=cpc',
  '/p/wireless-earbuds-pro',
  '/c/home-kitchen/cookware',
];
const SEARCH_QUERIES = ['red shoes', 'iphone\t15', 'कुर्ता', '😀 stickers', 'organic tea', 'لابتوب'];

function randomItems(rng: Rng): JsonValue[] {
  return Array.from({ length: randomInt(rng, 1, 3) }, () => ({
    sku: `SKU-${randomInt(rng, 10_000, 99_999)}`,
    name: pick(rng, PRODUCT_NAMES),
    qty: randomInt(rng, 1, 5),
    price: money(rng, 2_000),
  }));
}

function randomDevice(rng: Rng): JsonObject {
  return {
    model: pick(rng, ['Pixel 9', 'Galaxy S25', 'iPhone 16', 'Redmi Note 14', 'Chrome 140']),
    'OS Version': pick(rng, ['15', '14', '18.1', '26.0']),
    screen: { w: pick(rng, [390, 412, 1440]), h: pick(rng, [844, 915, 900]) },
  };
}

// Keys deliberately include a space, a slash, a tab and a control character.
const PROP_GENERATORS: readonly (readonly [string, (rng: Rng) => JsonValue])[] = [
  ['Amount', (rng) => money(rng, 5_000)],
  ['Currency', (rng) => pick(rng, ['INR', 'USD', 'AED', 'KRW', 'JPY', 'EUR'])],
  ['Product ID', (rng) => `SKU-${randomInt(rng, 10_000, 99_999)}`],
  ['Product Name', (rng) => pick(rng, PRODUCT_NAMES)],
  ['Landing Page', (rng) => `https://shop.example.com${pick(rng, LANDING_PAGES)}`],
  ['Category', (rng) => pick(rng, CATEGORIES)],
  ['Payment Mode', (rng) => pick(rng, ['UPI', 'Credit Card', 'Debit Card', 'COD', 'Wallet', null])],
  [
    'Coupon Code',
    (rng) => (rng() < 0.6 ? null : pick(rng, ['DIWALI50', 'NEWUSER', 'FREESHIP', 'SALE-2026'])),
  ],
  ['Screen', (rng) => pick(rng, ['Home', 'PDP', 'Cart', 'Checkout', 'Search Results', 'Profile'])],
  ['items', randomItems],
  ['Is First Purchase', (rng) => rng() < 0.2],
  ['Source/Medium', (rng) => pick(rng, ['google/cpc', 'facebook/paid', 'direct/(none)', 'email/newsletter'])],
  ['Tab\tKey', (rng) => pick(rng, ['left', 'right', 'center'])],
  ['Ctrl\u0001Key', (rng) => randomInt(rng, 0, 255)],
  ['Review Text', (rng) => pick(rng, REVIEW_TEXTS)],
  ['Device', randomDevice],
  ['Session Length', (rng) => randomInt(rng, 1, 3_600)],
  ['Rating', (rng) => randomInt(rng, 1, 5)],
  ['Search Query', (rng) => pick(rng, SEARCH_QUERIES)],
  ['Discount', (rng) => (rng() < 0.5 ? null : money(rng, 500))],
  ['Tags', (rng) => (rng() < 0.5 ? ['sale', 'new'] : ['loyal', 'vip 💎'])],
  ['Quantity', (rng) => randomInt(rng, 1, 10)],
];

function toWindow(from: Date, days: number): TimeWindow {
  const startMs = from.getTime();
  const endMs = startMs + days * MS_PER_DAY;
  const minSec = Math.ceil(startMs / 1000);
  const maxSec = Math.ceil(endMs / 1000) - 1;
  if (maxSec < minSec) throw new RangeError('demo window must contain at least one whole second');
  return { endMs, minSec, maxSec };
}

function randomSecond(rng: Rng, window: TimeWindow): number {
  return randomInt(rng, window.minSec, window.maxSec);
}

/** Turns planned event times into lines; it alone consumes the per-event name plan. */
class EventFactory {
  private nextName = 0;
  private readonly keyOrder: Uint8Array = Uint8Array.from(PROP_GENERATORS.map((_, i) => i));

  constructor(
    private readonly rng: Rng,
    private readonly window: TimeWindow,
    private readonly profiles: readonly DemoProfile[],
    private readonly names: Uint8Array,
  ) {}

  nextValidLine(second: number): string {
    const name = DEMO_EVENT_NAMES[this.names[this.nextName++]];
    return JSON.stringify(this.record(name, second));
  }

  /** A record that does not consume the name plan, for malformed-line variants. */
  looseRecord(): JsonObject {
    const name = DEMO_EVENT_NAMES[weightedNameIndex(this.rng)];
    return this.record(name, randomSecond(this.rng, this.window));
  }

  private record(name: string, second: number): JsonObject {
    return { name, time: this.time(second), profile: this.profile(), props: this.props() };
  }

  private time(second: number): number | string {
    if (this.rng() >= ISO_TIME_SHARE) return second;
    const ms = Math.min(second * 1000 + randomInt(this.rng, 0, 999), this.window.endMs - 1);
    return new Date(ms).toISOString();
  }

  private profile(): JsonObject {
    const { identity, email, platform } = pick(this.rng, this.profiles);
    return email === undefined ? { identity, platform } : { identity, email, platform };
  }

  private props(): JsonObject {
    // Biased towards more keys, as real events usually carry most of their schema.
    const count = 3 + Math.floor(Math.sqrt(this.rng()) * 6);
    const props: JsonObject = {};
    // Partial Fisher-Yates over a reused index array: distinct keys without allocating per event.
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(this.rng() * (this.keyOrder.length - i));
      const chosen = this.keyOrder[j];
      this.keyOrder[j] = this.keyOrder[i];
      this.keyOrder[i] = chosen;
      const [key, generate] = PROP_GENERATORS[chosen];
      props[key] = generate(this.rng);
    }
    return props;
  }
}

const NOT_JSON_VARIANTS = [
  '{"name": "App Launched", "time": 17',
  '{"name":"Charged","time":1793500000,"profile":{"identity":"u_1"',
  "{'name': 'Charged', 'time': 1793500000}",
  'name=App Launched&time=1793500000',
  '{"name":"Charged","time":1793500000,}',
];
const NOT_OBJECT_VARIANTS = ['[1,2,3]', '"text"', '42', 'null', 'true', '[{"name":"App Launched"}]'];

function withoutKey(record: JsonObject, key: string): JsonObject {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

function wrongTypes(record: JsonObject, variant: number): JsonObject {
  switch (variant % 3) {
    case 0:
      return { ...record, name: 12345 };
    case 1:
      return { ...record, props: 'Amount=100' };
    default:
      return { ...record, time: 'yesterday' };
  }
}

/** Kinds cycle: 0 not JSON, 1 JSON but not an object, 2 missing name, 3 missing time, 4 wrong types. */
function malformedLine(index: number, factory: EventFactory): string {
  const variant = Math.floor(index / 5);
  switch (index % 5) {
    case 0:
      return NOT_JSON_VARIANTS[variant % NOT_JSON_VARIANTS.length];
    case 1:
      return NOT_OBJECT_VARIANTS[variant % NOT_OBJECT_VARIANTS.length];
    case 2:
      return JSON.stringify(withoutKey(factory.looseRecord(), 'name'));
    case 3:
      return JSON.stringify(withoutKey(factory.looseRecord(), 'time'));
    default:
      return JSON.stringify(wrongTypes(factory.looseRecord(), variant));
  }
}

function hourPrefix(hour: number): string {
  const iso = new Date(hour * SECONDS_PER_HOUR * 1000).toISOString();
  return `events/${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

function planHour(rng: Rng, hour: number, gzip: boolean, seconds: Float64Array): ObjectPlan[] {
  const wanted = Math.max(randomInt(rng, 1, 3), Math.ceil(seconds.length / MAX_EVENTS_PER_PART));
  const parts = Math.min(wanted, seconds.length);
  const prefix = hourPrefix(hour);
  return Array.from({ length: parts }, (_, part) => ({
    name: `${prefix}/part-${String(part).padStart(3, '0')}.ndjson${gzip ? '.gz' : ''}`,
    gzip,
    seconds: seconds.subarray(
      Math.floor((seconds.length * part) / parts),
      Math.floor((seconds.length * (part + 1)) / parts),
    ),
    extras: [],
  }));
}

/** Gzips a steady share of hours, so even a short window shows both encodings in the usual proportion. */
function isGzipHour(ordinal: number, phase: number): boolean {
  return Math.floor((ordinal + 1) * GZIP_HOUR_SHARE + phase) > Math.floor(ordinal * GZIP_HOUR_SHARE + phase);
}

/** Hourly objects hold time-sorted events, split into 1-3 contiguous parts per hour. */
function planHourlyObjects(rng: Rng, window: TimeWindow, count: number): ObjectPlan[] {
  const seconds = new Float64Array(count);
  for (let i = 0; i < count; i++) seconds[i] = randomSecond(rng, window);
  seconds.sort();
  const phase = rng();
  const plans: ObjectPlan[] = [];
  let start = 0;
  for (let ordinal = 0; start < count; ordinal++) {
    const hour = Math.floor(seconds[start] / SECONDS_PER_HOUR);
    let end = start;
    while (end < count && Math.floor(seconds[end] / SECONDS_PER_HOUR) === hour) end++;
    plans.push(...planHour(rng, hour, isGzipHour(ordinal, phase), seconds.subarray(start, end)));
    start = end;
  }
  return plans;
}

/** The backfill is deliberately unsorted and big, so the planner has to split it by byte range. */
function planBackfillObject(rng: Rng, window: TimeWindow, count: number): ObjectPlan {
  const seconds = new Float64Array(count);
  for (let i = 0; i < count; i++) seconds[i] = randomSecond(rng, window);
  return { name: BACKFILL_OBJECT, gzip: false, seconds, extras: [] };
}

function addExtra(rng: Rng, plan: ObjectPlan, line: string): void {
  plan.extras.push({ at: randomInt(rng, 0, plan.seconds.length), line });
}

/** Spreads malformed lines evenly over the sorted objects (first and last included), blanks at random. */
function placeExtraLines(rng: Rng, plans: ObjectPlan[], malformed: number, factory: EventFactory): void {
  for (let i = 0; i < malformed; i++) {
    const target = malformed === 1 ? 0 : Math.floor((i * (plans.length - 1)) / (malformed - 1));
    addExtra(rng, plans[target], malformedLine(i, factory));
  }
  for (let i = 0; i < BLANK_LINES; i++) addExtra(rng, pick(rng, plans), '');
  for (const plan of plans) plan.extras.sort((a, b) => a.at - b.at);
}

function renderLines(plan: ObjectPlan, factory: EventFactory): string[] {
  const lines: string[] = [];
  let extra = 0;
  for (let i = 0; i <= plan.seconds.length; i++) {
    for (; extra < plan.extras.length && plan.extras[extra].at === i; extra++) {
      lines.push(plan.extras[extra].line);
    }
    if (i < plan.seconds.length) lines.push(factory.nextValidLine(plan.seconds[i]));
  }
  return lines;
}

interface RenderedObject {
  object: DemoSourceObject;
  content: Buffer;
}

function renderObject(plan: ObjectPlan, factory: EventFactory): RenderedObject {
  const lines = renderLines(plan, factory);
  const text = lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  const plain = Buffer.from(text, 'utf8');
  const content = plan.gzip ? gzipSync(plain) : plain;
  return {
    object: { name: plan.name, bytes: content.length, gzip: plan.gzip, lines: lines.length },
    content,
  };
}

async function persist(dir: string, rendered: RenderedObject): Promise<DemoSourceObject> {
  const file = path.join(dir, ...rendered.object.name.split('/'));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, rendered.content);
  return rendered.object;
}

/**
 * Rendering is sequential so the shared PRNG is consumed in a fixed order; a few writes overlap it because
 * creating many small files, not CPU, dominates on slow disks (4 matches libuv's default fs thread pool).
 */
async function writeObjects(
  dir: string,
  plans: readonly ObjectPlan[],
  factory: EventFactory,
): Promise<DemoSourceObject[]> {
  const objects: DemoSourceObject[] = [];
  const inFlight: Promise<DemoSourceObject>[] = [];
  for (const plan of plans) {
    const write = persist(dir, renderObject(plan, factory));
    // Awaited in order below; this only keeps an early failure from being reported as unhandled.
    write.catch(() => undefined);
    inFlight.push(write);
    const oldest = inFlight.length >= WRITES_IN_FLIGHT ? inFlight.shift() : undefined;
    if (oldest !== undefined) objects.push(await oldest);
  }
  for (const write of inFlight) objects.push(await write);
  return objects;
}

function validate(options: DemoSourceOptions): number {
  const malformed = options.malformedLines ?? DEFAULT_MALFORMED_LINES;
  if (!Number.isSafeInteger(options.events) || options.events < 0) {
    throw new RangeError(`events must be a non-negative integer, got ${options.events}`);
  }
  if (!Number.isSafeInteger(malformed) || malformed < 0) {
    throw new RangeError(`malformedLines must be a non-negative integer, got ${malformed}`);
  }
  if (!(options.days > 0) || !Number.isFinite(options.days)) {
    throw new RangeError(`days must be a positive number, got ${options.days}`);
  }
  if (Number.isNaN(options.from.getTime())) throw new RangeError('from must be a valid date');
  return malformed;
}

function usedNames(names: Uint8Array): string[] {
  const seen = new Set(names);
  return DEMO_EVENT_NAMES.filter((_, index) => seen.has(index));
}

/** Writes a deterministic synthetic NDJSON event source under `options.dir`. */
export async function generateDemoSource(options: DemoSourceOptions): Promise<DemoSourceResult> {
  const malformed = validate(options);
  const rng = mulberry32(options.seed);
  const window = toWindow(options.from, options.days);
  const profiles = buildProfiles(rng, options.events);
  const names = planEventNames(rng, options.events);
  const backfillCount = Math.round(options.events * BACKFILL_SHARE);
  const plans = [
    ...planHourlyObjects(rng, window, options.events - backfillCount),
    planBackfillObject(rng, window, backfillCount),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const factory = new EventFactory(rng, window, profiles, names);
  placeExtraLines(rng, plans, malformed, factory);

  await fs.mkdir(options.dir, { recursive: true });
  const objects = await writeObjects(options.dir, plans, factory);

  return {
    objects,
    sourceRecords: options.events,
    malformedLines: malformed,
    bytes: objects.reduce((sum, object) => sum + object.bytes, 0),
    eventNames: usedNames(names),
  };
}
