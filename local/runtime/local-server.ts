import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP endpoint: where it listens, and how to stop it (open connections closed too). */
export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

/** Listens on a free port of 127.0.0.1 (the local endpoints the runtime and the deployed harness start). */
export async function listenLocally(server: Server): Promise<LocalServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
