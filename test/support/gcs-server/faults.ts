// Fault injection: the storage-testbench Retry Test API (instructions queued per operation, consumed by
// requests carrying `x-retry-test-id`), and seeded random faults for requests without that header.
import { randomUUID } from 'node:crypto';
import { mulberry32 } from '../../../shared/cli/seeded-random';
import { invalid, notFound } from './errors';
import type { Instruction, Operation } from './instructions';
import { isOperation, parseInstruction } from './instructions';

export interface RetryTestResource {
  id: string;
  instructions: Record<string, string[]>;
  completed: boolean;
  transport: 'HTTP';
}

/** A fault chosen for one request; `apply()` consumes it (and counts it) once it actually happens. */
export interface PendingFault {
  readonly text: string;
  readonly instruction: Instruction;
  readonly source: 'retry-test' | 'random';
  apply(): void;
}

export interface RandomFaultRule {
  /** The operation to disturb, e.g. 'storage.objects.insert'; every operation when omitted. */
  operation?: Operation;
  /** Only requests naming this object (objects.get/delete/patch, or an upload's `name`); every object when omitted. */
  objectName?: string;
  /** Probability in [0, 1] that a request of that operation gets a fault. */
  rate: number;
  /** Instructions to draw from, e.g. ['return-503', 'return-reset-connection']. */
  kinds: string[];
  seed?: number;
  /** Stop after this many faults (unbounded when omitted). */
  maxFaults?: number;
}

interface RetryTest {
  id: string;
  queues: Map<string, string[]>;
}

interface ActiveRule extends RandomFaultRule {
  random: () => number;
  applied: number;
}

export class Faults {
  /** How many faults of each instruction were applied, from either source. */
  readonly injected: Record<string, number> = {};
  private readonly tests = new Map<string, RetryTest>();
  private rules: ActiveRule[] = [];

  createRetryTest(instructions: Record<string, string[]>, transport = 'HTTP'): RetryTestResource {
    if (transport.toUpperCase() !== 'HTTP')
      throw invalid(`The requested transport <${transport}> is not supported`);
    for (const [method, list] of Object.entries(instructions)) {
      if (!isOperation(method)) throw invalid(`The requested method <${method}> for fault injection`);
      for (const text of list) {
        if (!parseInstruction(text)) throw invalid(`The fault injection request <${text}>`);
      }
    }
    const id = randomUUID().replace(/-/g, '');
    this.tests.set(id, { id, queues: new Map(Object.entries(instructions).map(([k, v]) => [k, [...v]])) });
    return this.retryTest(id);
  }

  retryTest(id: string): RetryTestResource {
    const test = this.tests.get(id);
    if (!test) throw notFound(`Retry Test ${id}`);
    const instructions = Object.fromEntries([...test.queues].map(([k, v]) => [k, [...v]]));
    const completed = [...test.queues.values()].every((q) => q.length === 0);
    return { id, instructions, completed, transport: 'HTTP' };
  }

  retryTests(): RetryTestResource[] {
    return [...this.tests.keys()].map((id) => this.retryTest(id));
  }

  deleteRetryTest(id: string): void {
    if (!this.tests.delete(id)) throw notFound(`Retry Test ${id}`);
  }

  injectRandom(rule: RandomFaultRule): void {
    if (!(rule.rate >= 0 && rule.rate <= 1)) throw new Error(`rate must be within [0, 1]: ${rule.rate}`);
    for (const kind of rule.kinds) {
      if (!parseInstruction(kind)) throw new Error(`unknown fault instruction: ${kind}`);
    }
    if (rule.kinds.length === 0) throw new Error('kinds must not be empty');
    this.rules.push({ ...rule, random: mulberry32(rule.seed ?? 1), applied: 0 });
  }

  clearRandom(): void {
    this.rules = [];
  }

  /** The next fault for a request of `operation`: the retry test's queued instruction first, else a random one. */
  select(
    operation: Operation,
    retryTestId: string | undefined,
    objectName?: string,
  ): PendingFault | undefined {
    if (retryTestId !== undefined) {
      const test = this.tests.get(retryTestId);
      if (!test) throw notFound(`Retry Test ${retryTestId}`);
      const queue = test.queues.get(operation);
      const text = queue?.[0];
      if (queue && text !== undefined) {
        return this.pending(text, 'retry-test', () => {
          if (queue[0] === text) queue.shift();
        });
      }
    }
    for (const rule of this.rules) {
      if (rule.operation !== undefined && rule.operation !== operation) continue;
      if (rule.objectName !== undefined && rule.objectName !== objectName) continue;
      if (rule.maxFaults !== undefined && rule.applied >= rule.maxFaults) continue;
      if (rule.random() >= rule.rate) continue;
      const text = rule.kinds[Math.floor(rule.random() * rule.kinds.length)] ?? rule.kinds[0];
      if (text === undefined) continue;
      return this.pending(text, 'random', () => {
        rule.applied++;
      });
    }
    return undefined;
  }

  private pending(text: string, source: PendingFault['source'], consume: () => void): PendingFault {
    const instruction = parseInstruction(text);
    if (!instruction) throw invalid(`The fault injection request <${text}>`);
    let applied = false;
    return {
      text,
      instruction,
      source,
      apply: () => {
        if (applied) return;
        applied = true;
        consume();
        this.injected[text] = (this.injected[text] ?? 0) + 1;
      },
    };
  }
}
