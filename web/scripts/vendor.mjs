// Copy pinned third-party files from node_modules into the repository, so that neither
// the app nor the tests fetch anything at run time. Run: `cd web && npm ci && npm run vendor`.
// The versions are the ones pinned (exactly) in web/package.json and web/package-lock.json.

import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(web, '..');

const FILES = [
  // axe-core: the accessibility engine the browser tests run on every main screen.
  { pkg: 'axe-core', from: 'axe.min.js', to: join(root, 'tests', 'e2e', 'vendor', 'axe.min.js') },
];

for (const { pkg, from, to } of FILES) {
  const manifest = JSON.parse(readFileSync(join(web, 'node_modules', pkg, 'package.json'), 'utf8'));
  const pinned = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8')).devDependencies[pkg];
  if (manifest.version !== pinned) {
    throw new Error(`${pkg}: node_modules has ${manifest.version}, package.json pins ${pinned}: run npm ci`);
  }
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(join(web, 'node_modules', pkg, from), to);
  console.log(`${pkg}@${manifest.version}: ${from} -> ${to}`);
}
