// What restore.js and save.js share: the inputs, the scopes a run may read, and the store.
// The store is $STAND_IN_CACHE/index.json (entries oldest first) with one directory per entry.
"use strict";
const fs = require("fs");
const path = require("path");

function input(name) {
  return (process.env[`INPUT_${name.toUpperCase()}`] || "").trim();
}

function lines(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean);
}

function storeDir() {
  const dir = process.env.STAND_IN_CACHE;
  if (!dir) {
    console.log("cache stand-in: STAND_IN_CACHE is not set: nothing restored, nothing saved");
  }
  return dir || null;
}

function readIndex(dir) {
  const file = path.join(dir, "index.json");
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : [];
}

function writeIndex(dir, entries) {
  fs.writeFileSync(path.join(dir, "index.json"), JSON.stringify(entries, null, 1));
}

// GitHub's rule: a run reads the caches of its own ref first, then of the base branch of a
// pull request, then of the default branch; it writes only to its own ref.
function scopes() {
  const event = JSON.parse(fs.readFileSync(process.env.GITHUB_EVENT_PATH, "utf8"));
  const defaultBranch = event.repository && event.repository.default_branch;
  if (!defaultBranch) {
    throw new Error("cache stand-in: the event's repository.default_branch is not set");
  }
  const found = [process.env.GITHUB_REF];
  if (process.env.GITHUB_BASE_REF) found.push(`refs/heads/${process.env.GITHUB_BASE_REF}`);
  found.push(`refs/heads/${defaultBranch}`);
  return [...new Set(found)];
}

// Each line of `path`, relative to the workspace; globs are not needed by the workflows.
function paths() {
  return lines(input("path")).map((line) => {
    if (/[*?[]/.test(line)) throw new Error(`cache stand-in: no globs here: ${line}`);
    return line;
  });
}

module.exports = { input, lines, storeDir, readIndex, writeIndex, scopes, paths };
