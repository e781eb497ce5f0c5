// /metrics over HTTP (node:http, main thread). The port is bound before any worker starts, so a
// port in use is a clear error before the run does any work.
import http from 'node:http';
import { ConfigError } from '../errors.js';
import type { RunMetrics } from './registry.js';

export class MetricsServer {
  private constructor(private readonly server: http.Server, readonly host: string, readonly port: number) {}

  /** Listens on host:port (port 0: any free port; see .port). Throws ConfigError if it cannot. */
  static async start(metrics: RunMetrics, host: string, port: number): Promise<MetricsServer> {
    const server = http.createServer((req, res) => {
      const isMetrics = req.url === '/metrics' || (req.url ?? '').startsWith('/metrics?');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'GET, HEAD' });
        res.end('only GET and HEAD are served\n');
        return;
      }
      if (!isMetrics) {
        res.writeHead(req.url === '/' ? 200 : 404, { 'Content-Type': 'text/plain' });
        res.end(req.url === '/' ? 'tdmpc-runtime: metrics at /metrics\n' : 'not found; try /metrics\n');
        return;
      }
      if (req.method === 'HEAD') { // health checks: no scrape, which copies every block
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
        res.end();
        return;
      }
      metrics.scrape().then(
        (text) => { res.writeHead(200, { 'Content-Type': metrics.registry.contentType }); res.end(text); },
        (err: Error) => { res.writeHead(500, { 'Content-Type': 'text/plain' }); res.end(`scrape failed: ${err.message}\n`); },
      );
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        if (err.code === 'EADDRINUSE') {
          reject(new ConfigError(`metrics.port ${port} on ${host} is already in use (another tdmpc run or exporter?); pick a free one, e.g. metrics.port=${port + 1} (for several runs at once, metrics.port=0 lets the system pick one and the start-up line shows it), or turn metrics off with metrics=false`));
        } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EACCES') {
          reject(new ConfigError(`cannot serve metrics on ${host}:${port} (${err.code}); set metrics.host to a local address such as 127.0.0.1, or metrics=false`));
        } else {
          reject(err);
        }
      };
      const onListening = () => { server.off('error', onError); resolve(); };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, host);
    });
    const addr = server.address();
    const bound = typeof addr === 'object' && addr ? addr.port : port;
    return new MetricsServer(server, host, bound);
  }

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}/metrics`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections?.();
    });
  }
}
