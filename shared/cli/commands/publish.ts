import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { parseExportRequest } from '../../domain/export-request';
import type { CommonOptions } from '../runtime';
import { cliConfig, printResult } from '../runtime';
import { UsageError } from '../usage-error';

const TOPIC = /^projects\/([a-z][a-z0-9-]{4,28}[a-z0-9])\/topics\/([A-Za-z][\w.~%+-]{2,254})$/;

function topicPath(value: string): { project: string; topic: string } {
  const match = TOPIC.exec(value);
  if (!match?.[1] || !match[2]) throw new InvalidArgumentError('must be projects/PROJECT/topics/TOPIC');
  return { project: match[1], topic: match[2] };
}

/**
 * What the platform does: publish one export request on the requests topic. It is validated first, so that a
 * mistake is reported here rather than as a rejection record. PUBSUB_EMULATOR_HOST sends it to the emulator.
 */
export function registerPublish(program: Command): void {
  program
    .command('publish')
    .description('publish an export request (JSON file) on a Pub/Sub topic, as the platform does')
    .argument('<request>', 'path of the export request JSON')
    .requiredOption('--topic <path>', 'projects/PROJECT/topics/TOPIC', topicPath)
    .action(
      async (file: string, options: { topic: { project: string; topic: string } }, command: Command) => {
        const common = command.optsWithGlobals<CommonOptions>();
        let json: unknown;
        try {
          json = JSON.parse(await readFile(file, 'utf8'));
        } catch (error) {
          throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
        }
        // The platform's own check before publishing, with the deployment's source scope when it is set here.
        const parsed = parseExportRequest(json, { sourceScope: cliConfig(common).settings.sourceScope });
        if (!parsed.ok) throw new UsageError(`invalid request ${file}:\n  ${parsed.violations.join('\n  ')}`);
        // Loaded on use: the local commands should not pay for the Pub/Sub client's start-up.
        const { PubSub } = await import('@google-cloud/pubsub');
        const pubsub = new PubSub({ projectId: options.topic.project });
        try {
          const messageId = await pubsub.topic(options.topic.topic).publishMessage({
            json,
            attributes: { accountId: parsed.value.accountId, requestId: parsed.value.requestId },
          });
          const target = `projects/${options.topic.project}/topics/${options.topic.topic}`;
          const via = process.env.PUBSUB_EMULATOR_HOST
            ? ` (emulator ${process.env.PUBSUB_EMULATOR_HOST})`
            : '';
          printResult(
            common,
            `published request ${parsed.value.requestId} to ${target}${via}: message ${messageId}`,
            {
              messageId,
              topic: target,
              requestId: parsed.value.requestId,
            },
          );
        } finally {
          await pubsub.close();
        }
      },
    );
}
