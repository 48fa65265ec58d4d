import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * An embedded server that persists under the data folder, shared by every attachment-vault process that uses the
 * folder at the same time. The first process starts it and writes `<dir>/endpoint.json` ({url, pid}); the others find
 * the file, check that the process lives and the server answers, and use it instead of starting their own (which would
 * not see the first one's writes: fauxqs keeps objects in memory, LevelDB allows one process). The owner removes the
 * file when it closes: stop it last (the viewer, or serve, usually). Within one process the same applies (a test's
 * runtime and its archive commands share one server).
 */

export interface SharedServer {
  url: string;
  /** True when this process started it. */
  owner: boolean;
  close(): Promise<void>;
}

interface EndpointFile {
  url: string;
  pid: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

async function running(file: string, probe: (url: string) => Promise<boolean>): Promise<string | undefined> {
  let found: EndpointFile;
  try {
    found = JSON.parse(await readFile(file, 'utf8')) as EndpointFile;
  } catch {
    return undefined;
  }
  if (typeof found.url !== 'string' || typeof found.pid !== 'number' || (found.pid !== process.pid && !alive(found.pid))) return undefined;
  return (await probe(found.url).catch(() => false)) ? found.url : undefined;
}

export async function sharedServer(
  dir: string,
  start: () => Promise<{ url: string; close(): Promise<void> }>,
  probe: (url: string) => Promise<boolean>,
): Promise<SharedServer> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'endpoint.json');
  for (let attempt = 0; ; attempt++) {
    const url = await running(file, probe);
    if (url) return { url, owner: false, close: async () => undefined };
    try {
      const server = await start();
      await writeFile(file, JSON.stringify({ url: server.url, pid: process.pid } satisfies EndpointFile));
      return {
        url: server.url,
        owner: true,
        close: async () => {
          await rm(file, { force: true });
          await server.close();
        },
      };
    } catch (error) {
      // Another process is starting it right now (LevelDB's lock): its endpoint file follows shortly.
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
