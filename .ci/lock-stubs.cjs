// The npm registry reachable from CI lacks msgpackr-extract's darwin/win32/linux-arm binaries, and
// npm then leaves them out of package-lock.json, which makes `npm ci` fail ("Missing: … from lock
// file"). This adds platform-tagged stub entries (never installed on linux-x64). Run it after any
// `npm install` that rewrites the lock file: node .ci/lock-stubs.cjs
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const file = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const pkgs = lock.packages;
const extract = pkgs['node_modules/msgpackr-extract'];
let added = 0;
for (const [name, version] of Object.entries(extract?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (pkgs[key]) continue;
  const [, os, cpu] = /msgpackr-extract-(\w+)-(\w+)$/.exec(name) ?? [];
  pkgs[key] = { version, cpu: [cpu], license: 'MIT', optional: true, os: [os] };
  added++;
}
lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`lock-stubs: ${added} stub entr${added === 1 ? 'y' : 'ies'} added`);
