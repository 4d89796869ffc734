import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type EmulatorKind = 'firestore' | 'pubsub';

/** How to start one emulator, once the SDK and Java are found. */
export interface EmulatorCommand {
  java: string;
  /** Arguments before the listen address, e.g. `-jar JAR`; the launcher appends `--host=… --port=…`. */
  args: (host: string, port: number) => string[];
  jar: string;
}

export type Located = { ok: true; command: EmulatorCommand } | { ok: false; reason: string };

const COMPONENT: Record<EmulatorKind, { gcloud: string; apt: string }> = {
  firestore: { gcloud: 'cloud-firestore-emulator', apt: 'google-cloud-cli-firestore-emulator' },
  pubsub: { gcloud: 'pubsub-emulator', apt: 'google-cloud-cli-pubsub-emulator' },
};

const FALLBACK_SDK_ROOTS = [
  '/usr/lib/google-cloud-sdk',
  '/usr/share/google-cloud-sdk',
  path.join(os.homedir(), 'google-cloud-sdk'),
  '/opt/google-cloud-sdk',
  '/snap/google-cloud-cli/current',
  '/opt/homebrew/share/google-cloud-sdk',
  '/usr/local/share/google-cloud-sdk',
];

function run(file: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`${file} failed: ${error.message}`)) : resolve({ stdout, stderr }),
    );
  });
}

async function gcloudSdkRoot(): Promise<string | undefined> {
  try {
    const { stdout } = await run('gcloud', ['info', '--format=value(installation.sdk_root)'], 15_000);
    return stdout.trim() || undefined;
  } catch {
    return undefined; // no gcloud on PATH, or it failed: the fallback paths still apply
  }
}

/** The Java binary: $JAVA_HOME/bin/java when set, else `java` on PATH; undefined when neither runs. */
async function findJava(): Promise<{ java: string } | { reason: string }> {
  const candidates = process.env.JAVA_HOME
    ? [path.join(process.env.JAVA_HOME, 'bin', 'java'), 'java']
    : ['java'];
  for (const java of candidates) {
    try {
      await run(java, ['-version'], 15_000);
      return { java };
    } catch {
      // try the next one
    }
  }
  return {
    reason:
      'Java not found (no `java` on PATH' +
      (process.env.JAVA_HOME ? ` nor in JAVA_HOME=${process.env.JAVA_HOME}` : '') +
      '); install Java 21 or later (the current Firestore emulator refuses older ones), e.g. openjdk-21-jre-headless',
  };
}

function firestoreJar(sdkRoot: string): string | undefined {
  const jar = path.join(sdkRoot, 'platform', 'cloud-firestore-emulator', 'cloud-firestore-emulator.jar');
  return existsSync(jar) ? jar : undefined;
}

function pubsubJar(sdkRoot: string): string | undefined {
  const dir = path.join(sdkRoot, 'platform', 'pubsub-emulator', 'lib');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const jar = names.filter((name) => /^cloud-pubsub-emulator-.*-all\.jar$/.test(name)).sort()[0];
  return jar ? path.join(dir, jar) : undefined;
}

function commandFor(kind: EmulatorKind, java: string, jar: string): EmulatorCommand {
  switch (kind) {
    case 'firestore':
      // The jar has no Main-Class, so `java -jar` does not work for it.
      return {
        java,
        jar,
        args: (host, port) => [
          '-Duser.language=en',
          '-cp',
          jar,
          'com.google.cloud.datastore.emulator.firestore.CloudFirestore',
          'start',
          `--host=${host}`,
          `--port=${port}`,
          '--database-mode=firestore-native',
        ],
      };
    case 'pubsub':
      return { java, jar, args: (host, port) => ['-jar', jar, `--host=${host}`, `--port=${port}`] };
  }
}

/** Finds the SDK, each emulator's jar and Java; says why for each emulator that cannot be started. */
export async function locateEmulators(kinds: EmulatorKind[]): Promise<Map<EmulatorKind, Located>> {
  const [fromGcloud, javaFound] = await Promise.all([gcloudSdkRoot(), findJava()]);
  const roots = [...new Set([...(fromGcloud ? [fromGcloud] : []), ...FALLBACK_SDK_ROOTS])];
  const existingRoots = roots.filter((root) => existsSync(root));
  const located = new Map<EmulatorKind, Located>();
  for (const kind of kinds) {
    const jarIn = kind === 'firestore' ? firestoreJar : pubsubJar;
    const jar = existingRoots.map(jarIn).find((found) => found !== undefined);
    const install = `install google-cloud-cli with the ${COMPONENT[kind].gcloud} component (apt-get install ${COMPONENT[kind].apt}, or gcloud components install ${COMPONENT[kind].gcloud})`;
    if (!jar) {
      located.set(kind, {
        ok: false,
        reason:
          existingRoots.length === 0
            ? `Google Cloud SDK not found (gcloud ${fromGcloud ? `says ${fromGcloud}` : 'not on PATH'}; looked in ${roots.join(', ')}); ${install}`
            : `the Google Cloud SDK at ${existingRoots.join(', ')} has no ${COMPONENT[kind].gcloud} component; ${install}`,
      });
    } else if ('reason' in javaFound) {
      located.set(kind, { ok: false, reason: javaFound.reason });
    } else {
      located.set(kind, { ok: true, command: commandFor(kind, javaFound.java, jar) });
    }
  }
  return located;
}
