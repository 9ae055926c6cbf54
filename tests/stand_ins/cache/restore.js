// Find the newest entry whose key is `key`, else one that starts with a restore key, scope by
// scope (see store.js), and copy its paths into the workspace.
"use strict";
const fs = require("fs");
const path = require("path");
const { input, lines, storeDir, readIndex, scopes, paths } = require("./store.js");

function find(entries, key, restoreKeys) {
  for (const scope of scopes()) {
    const inScope = entries.filter((entry) => entry.scope === scope).reverse();
    const exact = inScope.find((entry) => entry.key === key);
    if (exact) return exact;
    for (const prefix of restoreKeys) {
      const partial = inScope.find((entry) => entry.key.startsWith(prefix));
      if (partial) return partial;
    }
  }
  return null;
}

const dir = storeDir();
const key = input("key");
fs.appendFileSync(process.env.GITHUB_STATE, `key=${key}\n`);
const entry = dir ? find(readIndex(dir), key, lines(input("restore-keys"))) : null;
if (entry) {
  for (const [index, target] of paths().entries()) {
    const saved = path.join(dir, entry.dir, String(index));
    if (fs.existsSync(saved)) fs.cpSync(saved, target, { recursive: true });
  }
  console.log(`cache stand-in: restored ${entry.key} (saved for ${entry.scope})`);
} else if (dir) {
  console.log(`cache stand-in: no cache for ${key}`);
}
const hit = entry !== null && entry.key === key;
fs.appendFileSync(process.env.GITHUB_STATE, `hit=${hit}\n`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `cache-hit=${hit}\n`);
