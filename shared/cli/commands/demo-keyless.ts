import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { serviceAccountMember } from '../../adapters/bucket-iam';
import { SettableClock } from '../../adapters/clocks';
import type { LocalRuntime } from '../../composition/local';
import { GRANT_ROLES } from '../../domain/destinations/account-principals';
import { exportDocSchema, paths } from '../../domain/documents';
import type { PlanOutcome } from '../../domain/export/plan-export';
import { loadRun } from '../../domain/export/run-state';
import { formatUtc } from '../../domain/format';
import { exportDocId, runIdFor } from '../../domain/ids';
import { z } from '../../domain/zod';
import type { principalSchema } from '../../api/schemas';
import { accountPath, callApi } from '../api-call';
import type { DemoOptions } from '../demo-setup';
import { ACCOUNT, MiB, prepareDemoSource, requestOf } from '../demo-setup';
import { formatOutputTree } from '../report';
import { cliConfig, openRuntime, printResult } from '../runtime';

const HOUR = 3_600_000;
const DESTINATION = {
  destinationId: 'demo-keyless-destination',
  bucket: 'demo-keyless-bucket',
  nickname: 'Demo bucket without a key',
};
const KEYLESS_DEMO_EVENTS = 20_000;
const KEYLESS_DEMO_CHUNK_MB = 1;

const mailSchema = z.object({
  noticeId: z.string(),
  subject: z.string(),
  text: z.string(),
  sentAt: z.string(),
});

/** The notices of one export in the outbox, oldest first. */
async function notices(root: string, exportId: string) {
  const files = (await readdir(root).catch(() => [])).filter((name) => name.endsWith('.json'));
  const found: z.infer<typeof mailSchema>[] = [];
  for (const file of files) {
    const mail = mailSchema.safeParse(JSON.parse(await readFile(path.join(root, file), 'utf8')));
    if (mail.success && mail.data.noticeId.includes(`~${exportId}~`)) found.push(mail.data);
  }
  return found.sort((a, b) => a.sentAt.localeCompare(b.sentAt));
}

/** The customer's side: `gcloud storage buckets add-iam-policy-binding` (or remove-…) for both roles, simulated. */
function setGrant(runtime: LocalRuntime, principal: string, present: boolean): void {
  for (const role of GRANT_ROLES)
    runtime.buckets.setIamBinding(DESTINATION.bucket, role, serviceAccountMember(principal), present);
}

/**
 * `demo --keyless`: a destination without a key. The demo account's principal is created and printed with the
 * commands a customer runs; the customer's grant is simulated on the local bucket's IAM policy; the destination is
 * saved and an export starts; midway the grant is revoked (the customer removed the roles), so the hourly check's
 * probe sends notice 1 naming the missing roles; an hour later the grant is back and the export resumes and completes,
 * and the next check sends the recovery notice.
 */
export async function runKeylessDemo(
  options: DemoOptions,
  defaulted: (option: string) => boolean,
): Promise<void> {
  const start = new Date(Math.floor(Date.now() / 1000) * 1000);
  const clock = new SettableClock(start);
  const chunkMb = defaulted('chunkMb') ? KEYLESS_DEMO_CHUNK_MB : options.chunkMb;
  const config = cliConfig(options, { chunkTargetBytes: chunkMb * MiB });
  // One delivery at a time, so that the grant is revoked exactly between two chunks.
  const runtime = await openRuntime({ ...config, localConcurrency: 1 }, { clock });
  try {
    const events = defaulted('events') ? KEYLESS_DEMO_EVENTS : options.events;
    const { sourceId, from, to, demoId } = await prepareDemoSource(runtime, { ...options, events });
    await runtime.buckets.createBucket(DESTINATION.bucket);
    const lines: string[] = [];
    const say = (line: string) => lines.push(line);

    const granted = (await callApi(runtime, 'GET', accountPath(ACCOUNT, 'principal'), {
      query: { bucket: DESTINATION.bucket },
    })) as z.output<typeof principalSchema>;
    say(`account ${ACCOUNT}: principal ${granted.principal}`);
    say('the customer grants it the two roles on the bucket (no key changes hands):');
    for (const command of granted.commands) say(`  $ ${command}`);
    setGrant(runtime, granted.principal, true);
    say(`  (simulated on the local bucket ${DESTINATION.bucket}'s IAM policy)`);
    if (!(await runtime.state.get(paths.destination(ACCOUNT, DESTINATION.destinationId))))
      await callApi(runtime, 'POST', accountPath(ACCOUNT, 'destinations'), {
        body: { ...DESTINATION, auth: { type: 'grant' } },
      });
    say(`destination ${DESTINATION.destinationId} saved with auth {"type": "grant"}: the probe passed`);

    const exportId = `demo-keyless-${demoId.slice('demo-'.length)}`;
    const request = requestOf(demoId, sourceId, from, to, {
      exportId,
      destinationId: DESTINATION.destinationId,
    });
    let chunkCount = 0;
    let written = 0;
    let revoked = false;
    const revokeMidway = (topic: string, _delivery: unknown, result: unknown) => {
      const { topics } = runtime.ctx.settings;
      if (topic === topics.requests && result) chunkCount = (result as PlanOutcome).chunkCount;
      if (topic !== topics.chunks || (result as { status?: string } | undefined)?.status !== 'written')
        return;
      written += 1;
      if (!revoked && written === Math.max(1, Math.floor(chunkCount / 2))) {
        revoked = true;
        // Synchronous, between two deliveries (one at a time): the next chunk runs without the roles.
        setGrant(runtime, granted.principal, false);
        say(`hour 0: the customer revokes the grant after ${written} of ${chunkCount} chunks`);
      }
    };
    runtime.bus.on('acked', revokeMidway);
    await runtime.bus.publish(runtime.ctx.settings.topics.requests, [{ data: request }]);
    await runtime.bus.drain();
    runtime.bus.off('acked', revokeMidway);

    const runId = runIdFor(ACCOUNT, request.requestId);
    say(`run ${runId}: ${(await loadRun(runtime.state, runId))?.status ?? '?'}`);
    await runtime.fireCheck();
    const [first] = await notices(runtime.mailer.root, exportId);
    const failing = exportDocSchema.parse(
      await runtime.state.get(paths.export(exportDocId(ACCOUNT, exportId))),
    );
    say(`hour 0 check (${formatUtc(clock.now())}): ${failing.health.lastError?.code ?? '?'}`);
    say(`  ${failing.health.lastError?.message ?? ''}`);
    if (first) {
      say(`  notice 1 sent: "${first.subject}"`);
      for (const line of first.text.split('\n').filter((l) => GRANT_ROLES.some((role) => l.includes(role))))
        say(`    ${line.trim()}`);
    }

    clock.set(new Date(start.getTime() + HOUR));
    setGrant(runtime, granted.principal, true);
    say('hour 1: the customer grants the roles again');
    const outcome = await runtime.fireCheck();
    const run = await loadRun(runtime.state, runId);
    say(
      `hour 1 check: ${outcome.resumed.includes(exportId) ? 'the probe passes, export resumed' : 'not resumed'}; ` +
        `run ${run?.status ?? '?'}`,
    );
    const sent = await notices(runtime.mailer.root, exportId);

    // The recovery notice goes out at the next check, once the resumed run has delivered.
    clock.set(new Date(start.getTime() + 2 * HOUR));
    const recovery = (await runtime.fireCheck()).recoveryNotices.find((r) => r.exportId === exportId);
    say(
      recovery
        ? `hour 2 check: recovery notice sent to ${recovery.to.join(', ')}: "${recovery.subject}"`
        : 'hour 2 check: no recovery notice',
    );
    say('');
    say(await formatOutputTree(runtime.buckets, DESTINATION.bucket, request.prefix));
    const namesRoles = GRANT_ROLES.every((role) => first?.text.includes(role) ?? false);
    printResult(options, lines.join('\n'), {
      principal: granted.principal,
      commands: granted.commands,
      exportId,
      runId,
      chunks: chunkCount,
      revokedAfterChunks: Math.max(1, Math.floor(chunkCount / 2)),
      failure: failing.health.lastError?.code,
      notices: sent.map((n) => ({
        number: Number(/~notice-(\d)$/.exec(n.noticeId)?.[1]),
        subject: n.subject,
      })),
      noticeNamesRoles: namesRoles,
      recoveryNotice: recovery ? { afterNotice: recovery.afterNotice, subject: recovery.subject } : null,
      runStatus: run?.status,
      outbox: runtime.mailer.root,
    });
    if (run?.status !== 'succeeded' || sent.length !== 1 || !namesRoles || !recovery) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}
