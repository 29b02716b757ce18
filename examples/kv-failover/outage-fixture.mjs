#!/usr/bin/env node
// outage-fixture.mjs — a service with a scripted, precisely recorded outage, used to validate
// RTO measurement.
//
//   node outage-fixture.mjs --port 0
//
//   GET  /health        200 {"ok":true} normally, 503 {"ok":false} during an outage
//   POST /outage?ms=D   answers 200 first, then /health answers 503 for D ms (performance.now())
//   GET  /outages       [{startMs, endMs, durationMs}] completed outages, on this process's
//                       performance.now() clock
//   GET  /clock         {"now": performance.now(), "timeOrigin": performance.timeOrigin}
//
// Invariant: a /health request handled at instant t answers 503 iff startMs <= t < endMs.
import http from "node:http";
import process from "node:process";
import { performance } from "node:perf_hooks";
import { listenAndAnnounce, parseFlags, readBody, sendJson, watchParent } from "./common.mjs";

const opts = parseFlags(process.argv.slice(2), {
  port: { type: "number", default: 0 },
  host: { type: "string", default: "127.0.0.1" },
  parentPid: { type: "number", default: 0 },
});

watchParent(opts.parentPid);

/** @type {{startMs: number, durationRequested: number, timer: NodeJS.Timeout} | null} */
let current = null;
const outages = [];

/** Flip back to healthy if the outage has lasted its full duration. Returns true if flipped. */
function maybeEnd() {
  if (current === null) return false;
  const now = performance.now();
  if (now - current.startMs < current.durationRequested) return false;
  clearTimeout(current.timer);
  outages.push({ startMs: current.startMs, endMs: now, durationMs: now - current.startMs });
  current = null;
  return true;
}

function armEnd() {
  const remaining = current.startMs + current.durationRequested - performance.now();
  current.timer = setTimeout(() => {
    if (!maybeEnd()) armEnd(); // timer fired early relative to performance.now()
  }, Math.max(0, Math.ceil(remaining)));
}

async function handle(req, res) {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/health" && (req.method === "GET" || req.method === "HEAD")) {
    maybeEnd();
    return current === null ? sendJson(res, 200, { ok: true }) : sendJson(res, 503, { ok: false });
  }
  if (url.pathname === "/outage" && req.method === "POST") {
    await readBody(req);
    const ms = Number(url.searchParams.get("ms"));
    if (!url.searchParams.has("ms") || !Number.isFinite(ms) || ms < 0) {
      return sendJson(res, 400, { error: "ms must be a non-negative number" });
    }
    maybeEnd();
    if (current !== null) return sendJson(res, 409, { error: "outage in progress" });
    sendJson(res, 200, { ok: true, ms }); // response is written before the outage begins
    current = { startMs: performance.now(), durationRequested: ms, timer: undefined };
    armEnd();
    return;
  }
  if (url.pathname === "/outages" && req.method === "GET") {
    maybeEnd();
    return sendJson(res, 200, outages);
  }
  if (url.pathname === "/clock" && req.method === "GET") {
    return sendJson(res, 200, { now: performance.now(), timeOrigin: performance.timeOrigin });
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
