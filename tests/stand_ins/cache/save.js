// At the end of a successful job: save the paths under the primary key for this run's ref,
// unless the key was restored exactly or already exists there (cache entries are immutable).
"use strict";
const fs = require("fs");
const path = require("path");
const { storeDir, readIndex, writeIndex, paths } = require("./store.js");

const dir = storeDir();
const key = process.env.STATE_key;
const scope = process.env.GITHUB_REF;
if (dir && process.env.STATE_hit === "true") {
  console.log(`cache stand-in: ${key} was restored exactly, not saved again`);
} else if (dir && !paths().some((source) => fs.existsSync(source))) {
  console.log(`cache stand-in: none of the paths exists, nothing saved`);
} else if (dir) {
  const entries = readIndex(dir);
  if (entries.some((entry) => entry.scope === scope && entry.key === key)) {
    console.log(`cache stand-in: ${key} already exists for ${scope}, not saved`);
  } else {
    const entry = { scope, key, dir: `entry-${entries.length + 1}` };
    for (const [index, source] of paths().entries()) {
      if (fs.existsSync(source)) {
        fs.cpSync(source, path.join(dir, entry.dir, String(index)), { recursive: true });
      }
    }
    fs.mkdirSync(path.join(dir, entry.dir), { recursive: true });
    writeIndex(dir, [...entries, entry]);
    console.log(`cache stand-in: saved ${key} for ${scope}`);
  }
}
