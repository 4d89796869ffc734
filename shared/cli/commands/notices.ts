import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { NOTICE_NUMBERS } from '../../domain/documents';
import type { NoticeNumber } from '../../domain/documents';
import { ERROR_CODES } from '../../domain/error-codes';
import type { RenderedNotice } from '../../domain/health/notice-email';
import { renderNotice, renderRecoveryNotice } from '../../domain/health/notice-email';

const HOUR = 60 * 60 * 1000;

/** Destination-kind codes: the ones a notice is sent for. */
const NOTICE_CODES = Object.entries(ERROR_CODES)
  .filter(([, spec]) => spec.kind === 'destination')
  .map(([code]) => code);

/**
 * `gcs-export notices preview`: the subject, text and HTML of any notice, for an example export, written to files
 * a person opens in a browser or a text editor — how a notice reads before a customer ever gets one.
 */
export function registerNotices(program: Command): void {
  const notices = program.command('notices').description('the e-mails sent about failing exports');
  notices
    .command('preview')
    .description('write the text and HTML of a notice for an example export (open the .html in a browser)')
    .addOption(
      new Option('--code <code>', 'the destination error').choices(NOTICE_CODES).default('bucketNotFound'),
    )
    .addOption(
      new Option(
        '--number <n>',
        'notice 1 (at the failure), 2 (after 48 h), 3 (the stop, after 72 h), or recovery (it works again)',
      )
        .choices([...NOTICE_NUMBERS.map(String), 'recovery'])
        .default('1'),
    )
    .option('--bucket <name>', 'the bucket the example export writes to', 'acme-analytics-exports')
    .option('--out <dir>', 'where to write notice-N-CODE.{txt,html}', '.gcs-export/previews')
    .action(async (options: { code: string; number: string; bucket: string; out: string }) => {
      const firstFailureAt = new Date('2026-03-02T09:00:00Z');
      const subject = {
        exportId: 'daily-events',
        displayName: 'Daily events',
        recipient: { email: 'owner@example.com', name: 'Ada Owner' },
        destination:
          options.code === 'destinationDeleted'
            ? undefined
            : { nickname: 'Analytics bucket', bucket: options.bucket },
        errorCode: options.code,
        firstFailureAt,
        fixUrl: 'https://app.example.com/integrations/gcs/analytics-bucket',
      };
      if (options.number === 'recovery') {
        const recovered = renderRecoveryNotice({
          ...subject,
          recoveredAt: new Date(firstFailureAt.getTime() + 51 * HOUR),
          notices: [1, 2],
          delivered: { runs: 1, chunks: 3, caughtUp: 0 },
        });
        return write(options, `notice-recovery-${options.code}`, recovered);
      }
      // Commander has checked it is one of the choices.
      const notice = Number(options.number) as NoticeNumber;
      const rendered = renderNotice({
        ...subject,
        notice,
        now: new Date(firstFailureAt.getTime() + (notice === 1 ? 0 : notice === 2 ? 48 : 72) * HOUR),
        stopAt: new Date(firstFailureAt.getTime() + 72 * HOUR),
        undelivered:
          notice === 3
            ? [
                {
                  runId: '0123456789abcdef0123456789abcdef',
                  kind: 'events',
                  window: { from: '2026-03-04T00:00:00Z', to: '2026-03-05T00:00:00Z' },
                  chunks: { done: 2, total: 5 },
                  undeliveredBytes: 3 * 1024 * 1024 * 1024,
                },
              ]
            : [],
      });
      await write(options, `notice-${notice}-${options.code}`, rendered);
    });
}

/** Writes the notice as `NAME.txt` (with its subject) and `NAME.html` in `--out`. */
async function write(options: { out: string }, name: string, rendered: RenderedNotice): Promise<void> {
  await mkdir(options.out, { recursive: true });
  const base = path.join(options.out, name);
  await writeFile(`${base}.txt`, `Subject: ${rendered.subject}\n\n${rendered.text}`);
  await writeFile(`${base}.html`, rendered.html);
  process.stdout.write(`${rendered.subject}\nwrote ${base}.txt and ${base}.html\n`);
}
