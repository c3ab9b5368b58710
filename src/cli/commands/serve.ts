import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { UserError } from '../../errors.js';
import { fixtureModelPath, packageRoot } from '../../package-info.js';
import { parseNonNegativeInt } from '../../parse.js';
import { labelledImages, startStaticServer } from '../static-server.js';

interface ServeOptions {
  model?: string;
  host: string;
  port: string;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('the playground: attack a model in your browser (webgl, wasm or cpu), on the fixture digits or your images')
    .option('--model <dir>', 'model folder the page loads (default: the fixture mnist-cnn)')
    .option('--host <host>', 'address to listen on (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .action(async (opts: ServeOptions) => {
      const model = path.resolve(opts.model ?? fixtureModelPath('mnist-cnn'));
      if (!existsSync(path.join(model, 'model.json'))) throw new UserError(`--model ${opts.model ?? model}: no model.json in that folder; give a TF.js model folder`);
      const port = parseNonNegativeInt(opts.port, '--port');
      if (port > 65535) throw new UserError(`--port ${opts.port}: give a port from 0 to 65535`);
      // The built page (npm run build:browser writes it).
      const page = path.join(packageRoot(), 'dist', 'playground');
      if (!existsSync(path.join(page, 'index.html')) || !existsSync(path.join(page, 'app.js'))) {
        throw new UserError(`the playground page is not built (${page} has no index.html/app.js): run npm run build:browser`);
      }
      const digits = path.join(packageRoot(), 'fixtures', 'images');
      let server;
      try {
        server = await startStaticServer({ '/': page, '/model': model, '/digits': digits }, opts.host, port, {
          '/digits.json': () => labelledImages(digits),
          '/info.json': async () => ({ model: path.basename(model) }),
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UserError(`--port ${port}: already in use; pick another, or --port 0 for any free port`);
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`--host ${opts.host}: not an address of this machine; use 127.0.0.1`);
        throw err;
      }
      process.stdout.write(`advtest playground: ${server.url} (model ${model}) — Ctrl-C stops\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stdout.write('advtest playground: stopped\n');
    });
}
