// Builds the dashboard into OUT (default ../api/assets/dashboard): index.html, app.js, app.css.
// Owns: the esbuild options (one minified ES module bundle, no source maps, no external URL).
// Never: fetches anything (every dependency is in node_modules, from the pinned lock).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '../../api/assets/dashboard'));
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(here, '../src/main.js') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: out,
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(join(here, '../src/index.html'), join(out, 'index.html'));
console.log(`dashboard built into ${out}`);
