#!/usr/bin/env node
// kv.mjs — in-memory key-value HTTP service with asynchronous primary -> standby replication.
//
//   node kv.mjs --port 0 --role standby
//   node kv.mjs --port 0 --role primary --replicate-to http://127.0.0.1:PORT --lag-ms 50
//
// The primary acknowledges a PUT as soon as it is applied locally and ships it to the standby
// `--lag-ms` later. Writes not yet shipped when the primary dies are lost (this is the RPO).
import http from "node:http";
import process from "node:process";
import { performance } from "node:perf_hooks";
import { listenAndAnnounce, parseFlags, readBody, sendJson, watchParent } from "./common.mjs";

const opts = parseFlags(process.argv.slice(2), {
  port: { type: "number", default: 0 },
  host: { type: "string", default: "127.0.0.1" },
  role: { type: "string", default: "primary" },
  replicateTo: { type: "string", default: "" },
  lagMs: { type: "number", default: 0 },
  parentPid: { type: "number", default: 0 },
});

if (opts.role !== "primary" && opts.role !== "standby") {
  process.stderr.write(`error: --role must be primary or standby, got ${opts.role}\n`);
  process.exit(2);
}
if (opts.replicateTo && opts.role !== "primary") {
  process.stderr.write("error: --replicate-to is only valid with --role primary\n");
  process.exit(2);
}

watchParent(opts.parentPid);

let role = opts.role;
let seq = 0; // acknowledged client writes on this process
const store = new Map();

// ---------------------------------------------------------------------------------------------
// Replication (primary only): every write is due for shipping `lagMs` after it was acknowledged.
// Writes that become due together are shipped as one batch; batches are sent strictly in order.
const replicateUrl = opts.replicateTo ? new URL("/replicate", opts.replicateTo) : null;
const lagMs = Math.max(0, opts.lagMs);
const replicationAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
/** @type {{key: string, value: string, due: number}[]} */
const pending = [];
let flushTimer = null;
let shipChain = Promise.resolve();

function enqueueReplication(key, value) {
  pending.push({ key, value, due: performance.now() + lagMs });
  if (flushTimer === null) armFlush();
}

function armFlush() {
  if (pending.length === 0) {
    flushTimer = null;
    return;
  }
  const delay = Math.max(0, Math.ceil(pending[0].due - performance.now()));
  flushTimer = setTimeout(flush, delay);
}

function flush() {
  flushTimer = null;
  const now = performance.now();
  let n = 0;
  while (n < pending.length && pending[n].due <= now) n++;
  if (n > 0) {
    const batch = pending.splice(0, n).map(({ key, value }) => ({ key, value }));
    shipChain = shipChain.then(() => ship(batch));
  }
  armFlush(); // timers may fire slightly early; re-arm for whatever is left
}

function ship(batch) {
  return new Promise((resolve) => {
    const payload = JSON.stringify(batch);
    const req = http.request(
      replicateUrl,
      {
        method: "POST",
        agent: replicationAgent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) {
            process.stderr.write(`REPLICATION_REJECTED status=${res.statusCode} entries=${batch.length}\n`);
          }
          resolve();
        });
        res.on("error", () => resolve());
      },
    );
    req.setTimeout(1000, () => req.destroy(new Error("replication timeout")));
    req.on("error", (err) => {
      process.stderr.write(`REPLICATION_FAILED ${err.code ?? err.message} entries=${batch.length}\n`);
      resolve();
    });
    req.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP API

function keyFrom(pathname) {
  try {
    return decodeURIComponent(pathname.slice("/kv/".length));
  } catch {
    return "";
  }
}

async function handle(req, res) {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname;

  if (path === "/health") {
    if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method not allowed" });
    return sendJson(res, 200, { ok: true, role });
  }

  if (path.startsWith("/kv/")) {
    const key = keyFrom(path);
    if (key === "") return sendJson(res, 400, { error: "missing key" });
    if (req.method === "GET" || req.method === "HEAD") {
      if (!store.has(key)) return sendJson(res, 404, { error: "not found" });
      const value = store.get(key);
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(value) });
      return res.end(value);
    }
    if (req.method === "PUT") {
      const body = await readBody(req);
      if (role !== "primary") return sendJson(res, 503, { error: "read-only standby" });
      const value = body.toString("utf8");
      store.set(key, value);
      seq += 1;
      if (replicateUrl) enqueueReplication(key, value);
      return sendJson(res, 200, { ok: true, seq });
    }
    return sendJson(res, 405, { error: "method not allowed" });
  }

  if (path === "/replicate") {
    if (req.method !== "POST") return sendJson(res, 405, { error: "method not allowed" });
    const body = await readBody(req, 64 << 20);
    // Fencing: once promoted, ignore late batches from a (zombie) old primary.
    if (role !== "standby") return sendJson(res, 409, { error: "not a standby" });
    let entries;
    try {
      entries = JSON.parse(body.toString("utf8"));
    } catch {
      return sendJson(res, 400, { error: "invalid JSON" });
    }
    if (!Array.isArray(entries) || !entries.every((e) => e && typeof e.key === "string" && typeof e.value === "string")) {
      return sendJson(res, 400, { error: "expected [{key, value}]" });
    }
    for (const { key, value } of entries) store.set(key, value);
    return sendJson(res, 200, { ok: true, applied: entries.length });
  }

  if (path === "/promote") {
    if (req.method !== "POST") return sendJson(res, 405, { error: "method not allowed" });
    await readBody(req);
    const previous = role;
    role = "primary";
    return sendJson(res, 200, { ok: true, role, promoted: previous !== "primary" });
  }

  return sendJson(res, 404, { error: "not found" });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) sendJson(res, err.status ?? 500, { error: String(err.message ?? err) });
    else res.destroy();
  });
});
server.keepAliveTimeout = 30_000;

await listenAndAnnounce(server, opts.port, opts.host);
