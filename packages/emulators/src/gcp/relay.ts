/**
 * The TCP relay in front of the Cloud KMS emulator's gRPC server (the `drop` failpoint).
 * @module
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP relay in front of the gRPC server: grpc-js gives a handler no access to its connection,
 * and the `drop` failpoint must cut connections as a network does (a reset the client sees at
 * once as `UNAVAILABLE`, not a polite HTTP/2 cancel).
 */
export async function startRelay(host: string, port: number, innerPort: number): Promise<{ port: number; dropAll(): void; close(): Promise<void> }> {
  const pairs = new Set<{ down: Socket; up: Socket }>();
  const relay = createServer((down) => {
    const up = connect(innerPort, host);
    const pair = { down, up };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    down.pipe(up);
    up.pipe(down);
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(port, host, () => resolve());
  });
  return {
    port: (relay.address() as AddressInfo).port,
    dropAll() {
      for (const { down, up } of [...pairs]) {
        down.resetAndDestroy();
        up.destroy();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { down, up } of pairs) {
          down.destroy();
          up.destroy();
        }
        relay.close(() => resolve());
      }),
  };
}
