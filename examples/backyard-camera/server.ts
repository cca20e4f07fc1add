/**
 * The backyard camera service: POST a JPEG frame to /detect, get the faces in
 * it as JSON. Inference runs on a pool of worker threads (piscina), one model
 * per worker, one worker per core; a bounded queue in front of it answers
 * 429 when the camera sends faster than the board can look (backpressure),
 * and SIGTERM/SIGINT finish the frames in flight before the process exits.
 *
 *   node examples/dist/backyard-camera/server.js <ulfd_rfb320 model.onnx> [port] [max queued frames]
 *   curl --data-binary @photo.jpg -H 'content-type: image/jpeg' localhost:8080/detect
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { availableParallelism } from 'os';
import { monitorEventLoopDelay } from 'perf_hooks';
import * as path from 'path';
import Piscina from 'piscina';

export interface ServiceOptions {
  modelPath: string;
  /** 0: any free port. */
  port?: number;
  /** Worker threads; default one per core. */
  workers?: number;
  /** Frames waiting for a worker before new ones get 429; default 2 per worker. */
  maxQueue?: number;
  /** Largest frame accepted, bytes; default 8 MiB. */
  maxBytes?: number;
}

export interface Service {
  url: string;
  /** Stops accepting, finishes the frames in flight, stops the workers. */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The request body, or null (and a 413 sent) past `max` bytes. */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        send(res, 413, { error: `frame larger than ${max} bytes` });
        req.destroy();
        resolve(null);
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startService(o: ServiceOptions): Promise<Service> {
  const workers = o.workers ?? availableParallelism();
  const maxQueue = o.maxQueue ?? 2 * workers;
  const maxBytes = o.maxBytes ?? 8 << 20;
  const pool = new Piscina({
    filename: path.join(__dirname, 'worker.js'),
    minThreads: workers,
    maxThreads: workers,
    maxQueue,
    workerData: { modelPath: o.modelPath },
  });
  // The service's own event loop: inference is on the workers, so it should stay responsive.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let done = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/stats') {
      return send(res, 200, { frames: done, queued: pool.queueSize, workers, loopP50Ms: lag.percentile(50) / 1e6, loopP99Ms: lag.percentile(99) / 1e6 });
    }
    if (req.method !== 'POST' || req.url !== '/detect') return send(res, 404, { error: 'POST a JPEG frame to /detect (GET /stats for the counters)' });
    // Backpressure: refuse before reading the frame when every worker is busy and the queue is full.
    if (pool.queueSize >= maxQueue) {
      req.resume();
      return send(res, 429, { error: 'busy: too many frames queued', queued: pool.queueSize });
    }
    readBody(req, res, maxBytes)
      .then(async (frame) => {
        if (frame === null) return;
        if (frame.length === 0) return send(res, 400, { error: 'empty body: POST the JPEG bytes' });
        const t0 = process.hrtime.bigint();
        const faces = await pool.run(frame);
        done++;
        send(res, 200, { faces, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
      })
      .catch((err: Error) => {
        // piscina's own queue-full error, when frames raced past the check above.
        if (/queue is at limit/i.test(err.message)) return send(res, 429, { error: 'busy: too many frames queued' });
        send(res, /unsupported image|Input buffer/i.test(err.message) ? 400 : 500, { error: err.message });
      });
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections(); // keep-alive sockets with no frame in flight
      await closed;
      await pool.destroy();
      lag.disable();
    },
  };
}

if (require.main === module) {
  const [modelPath, port, maxQueue] = process.argv.slice(2);
  if (modelPath === undefined) {
    console.error('usage: node server.js <ulfd_rfb320 model.onnx> [port (0: any)] [max queued frames]');
    process.exit(2);
  }
  startService({ modelPath, port: port === undefined ? 8080 : Number(port), ...(maxQueue === undefined ? {} : { maxQueue: Number(maxQueue) }) }).then((service) => {
    console.log(`listening on ${service.url}`);
    const stop = (): void => {
      console.log('shutting down: finishing the frames in flight');
      service.close().then(() => console.log('stopped'), (err: Error) => {
        console.error(err);
        process.exitCode = 1;
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
