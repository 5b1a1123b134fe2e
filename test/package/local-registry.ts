/**
 * A package registry on 127.0.0.1 that serves only the package's runtime dependencies (and theirs), packed from
 * the repo's node_modules. The tests may not reach the public registry, yet an install of the tarball must
 * resolve `node-forge` and `rxjs` the way it does on a user's machine: npm gets them from here, through its
 * ordinary registry protocol (packument, then tarball), with an empty cache of its own.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../e2e/node-red-process';
import { runNpm } from './npm';

interface ServedPackage {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  tarball: Buffer;
}

/** Packed once per test run: packing rxjs takes seconds. */
const packedDependencies = new Map<string, ServedPackage>();

export class LocalRegistry {
  /** Every path npm asked for, in order (decoded). */
  readonly requests: string[] = [];
  private server?: http.Server;
  private readonly packages = new Map<string, ServedPackage>();
  private workDir = '';

  /** A fresh npm cache, so nothing comes from the machine's own. */
  get cacheDir(): string {
    return path.join(this.workDir, 'npm-cache');
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/`;
  }

  /** The names this registry serves: the package's runtime dependencies and theirs. */
  get names(): string[] {
    return [...this.packages.keys()].sort();
  }

  /** Environment that points npm (also the npm Node-RED runs) at this registry and the fresh cache. */
  get npmEnv(): NodeJS.ProcessEnv {
    return {
      npm_config_registry: this.url,
      npm_config_cache: this.cacheDir,
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };
  }

  /** Pack the runtime dependencies of the repo's package.json (recursively) and listen on a free port. */
  async start(): Promise<void> {
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onvifq-registry-'));
    const root = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    this.addDependencies(root.dependencies ?? {}, REPO_ROOT);
    this.server = http.createServer((req, res) => this.answer(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    if (this.workDir) fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  private addDependencies(deps: Record<string, string>, fromDir: string): void {
    for (const name of Object.keys(deps)) {
      if (this.packages.has(name)) continue;
      const dir = path.dirname(require.resolve(`${name}/package.json`, { paths: [fromDir] }));
      let served = packedDependencies.get(dir);
      if (!served) {
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
        const out = runNpm(['pack', dir, '--json', '--ignore-scripts', '--pack-destination', this.workDir]);
        const [{ filename }] = JSON.parse(out) as Array<{ filename: string }>;
        const tarball = fs.readFileSync(path.join(this.workDir, filename));
        served = { name, version: manifest.version, dependencies: manifest.dependencies ?? {}, tarball };
        packedDependencies.set(dir, served);
      }
      this.packages.set(name, served);
      this.addDependencies(served.dependencies, dir);
    }
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const urlPath = decodeURIComponent((req.url ?? '/').split('?')[0]);
    this.requests.push(urlPath);
    const tarballMatch = /^\/(.+)\/-\/[^/]+-(\d[^/]*)\.tgz$/.exec(urlPath);
    if (tarballMatch) {
      const pkg = this.packages.get(tarballMatch[1]);
      if (!pkg || pkg.version !== tarballMatch[2]) return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': pkg.tarball.length });
      return void res.end(pkg.tarball);
    }
    const pkg = this.packages.get(urlPath.slice(1));
    if (!pkg) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify({ error: 'Not found' }));
    }
    const base = this.url.replace(/\/$/, '');
    const packument = {
      name: pkg.name,
      'dist-tags': { latest: pkg.version },
      versions: {
        [pkg.version]: {
          name: pkg.name,
          version: pkg.version,
          dependencies: pkg.dependencies,
          dist: {
            tarball: `${base}/${pkg.name}/-/${pkg.name.split('/').pop()}-${pkg.version}.tgz`,
            integrity: `sha512-${crypto.createHash('sha512').update(pkg.tarball).digest('base64')}`,
            shasum: crypto.createHash('sha1').update(pkg.tarball).digest('hex'),
          },
        },
      },
    };
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(packument));
  }
}
