import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './http.js';
import { fromRoot } from './paths.js';
import { listeningUrl, runCommand, type Running } from './example-process.js';

// The runtimes come from devDependencies (`bun`, `deno`, `wrangler` with its workerd), so the
// tests run the binaries those packages installed, from the repository's root.

const path = fromRoot;
const bin = (name: string): string => path(`node_modules/.bin/${name}`);
const WORKER_CONFIG = path('examples/cloudflare-worker/wrangler.toml');

export interface RuntimeServer {
  readonly running: Running;
  /** The webhook endpoint: http://127.0.0.1:<port>/webhooks/aicommerce */
  readonly url: string;
}

/**
 * `bun examples/bun/server.ts`. Bun applies tsconfig `paths`, and the repository's would point
 * 'aicommerce-webhooks' at src/: `examples/tsconfig.json` (no paths) makes it the built dist/.
 */
export async function startBun(secret: string): Promise<RuntimeServer> {
  const running = runCommand(bin('bun'), ['--tsconfig-override=examples/tsconfig.json', 'examples/bun/server.ts'], {
    AICOMMERCE_WEBHOOK_SECRET: secret,
    PORT: '0',
  });
  return { running, url: await urlOrStop(running, listeningUrl(running, 30_000)) };
}

/** `deno run` with the permissions the README gives: the network, and the two variables it reads. */
export async function startDeno(secret: string): Promise<RuntimeServer> {
  const running = runCommand(
    bin('deno'),
    ['run', '--no-lock', '--allow-net', '--allow-env=AICOMMERCE_WEBHOOK_SECRET,PORT,NO_DEPRECATION,TRACE_DEPRECATION', 'examples/deno/server.ts'],
    { AICOMMERCE_WEBHOOK_SECRET: secret, PORT: '0', NO_COLOR: '1' },
  );
  return { running, url: await urlOrStop(running, listeningUrl(running, 30_000)) };
}

export interface WranglerOptions {
  /** Run this Worker instead of the example's (a path from the repository's root). */
  main?: string;
  /** Change the example's wrangler.toml first. */
  edit?: (toml: string) => string;
}

/**
 * `wrangler dev` in local mode (the Worker bundled as for a deploy, run by workerd) on the example's
 * wrangler.toml as it is, or on a changed copy. The secret is passed as a variable, which is how a
 * Worker secret reaches the code. What wrangler writes besides goes to a directory removed after.
 */
export function runWrangler(secret: string, port: number, { main, edit }: WranglerOptions = {}): Running {
  const scratch = mkdtempSync(join(tmpdir(), 'aicommerce-wrangler-'));
  let config = WORKER_CONFIG;
  if (main !== undefined || edit !== undefined) {
    const toml = readFileSync(WORKER_CONFIG, 'utf8').replace(/^main = "(.*)"$/m, (_, file: string) =>
      `main = ${JSON.stringify(main === undefined ? path(`examples/cloudflare-worker/${file}`) : path(main))}`,
    );
    config = join(scratch, 'wrangler.toml');
    writeFileSync(config, edit === undefined ? toml : edit(toml));
  }
  const running = runCommand(
    bin('wrangler'),
    ['dev', '--config', config, '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', '0', '--persist-to', join(scratch, 'state'), '--var', `AICOMMERCE_WEBHOOK_SECRET:${secret}`],
    {
      // Nothing leaves this machine: no fetch of the `cf` request object from Cloudflare, no
      // metrics, no error reports, no update check (it comes with the banner).
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
      WRANGLER_SEND_ERROR_REPORTS: 'false',
      WRANGLER_HIDE_BANNER: 'true',
      WRANGLER_LOG_PATH: join(scratch, 'logs'),
      NO_COLOR: '1',
      FORCE_COLOR: '0',
    },
  );
  void running.exited.then(() => rmSync(scratch, { recursive: true, force: true }));
  return running;
}

export async function startWorker(secret: string, options?: WranglerOptions): Promise<RuntimeServer> {
  const running = runWrangler(secret, await freePort(), options);
  const origin = await urlOrStop(running, listeningUrl(running, 60_000, /Ready on (http:\/\/\S+)/));
  return { running, url: `${origin}/webhooks/aicommerce` };
}

/** The URL, or the process stopped (not left running) when it never listened. */
async function urlOrStop(running: Running, url: Promise<string>): Promise<string> {
  try {
    return await url;
  } catch (error) {
    await running.stop();
    throw error;
  }
}
