#!/usr/bin/env node
// router.mjs — reverse proxy in front of a primary/standby pair of kv.mjs services.
//
//   node router.mjs --port 0 --primary http://127.0.0.1:A --standby http://127.0.0.1:B
//                   [--check-ms 20] [--fail-after 2] [--check-timeout-ms 50]
//
// Every request is forwarded to the active upstream. The primary is health-checked every
// --check-ms; after --fail-after consecutive failures the standby is promoted (POST /promote),
// traffic switches to it and one line `FAILOVER <ms since process start>` goes to stderr.
import http from "node:http";
import process from "node:process";
import { performance } from "node:perf_hooks";
import { listenAndAnnounce, parseFlags, readBody, sendJson, watchParent } from "./common.mjs";

const opts = parseFlags(process.argv.slice(2), {
  port: { type: "number", default: 0 },
  host: { type: "string", default: "127.0.0.1" },
  primary: { type: "string", default: "" },
  standby: { type: "string", default: "" },
  checkMs: { type: "number", default: 20 },
  failAfter: { type: "number", default: 2 },
  checkTimeoutMs: { type: "number", default: 50 },
  requestTimeoutMs: { type: "number", default: 2000 },
  parentPid: { type: "number", default: 0 },
});

if (!opts.primary || !opts.standby) {
  process.stderr.write("error: --primary and --standby are required\n");
  process.exit(2);
}

watchParent(opts.parentPid);

const upstreams = { primary: new URL(opts.primary), standby: new URL(opts.standby) };
let active = "primary";
let failovers = 0;

const proxyAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const checkAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// ---------------------------------------------------------------------------------------------
// Health checking and failover

/** Resolve true iff `GET /health` answers 200 within `timeoutMs`. Never rejects. */
function probe(base, timeoutMs) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const req = http.get(new URL("/health", base), { agent: checkAgent }, (res) => {
      res.resume();
      res.on("end", () => finish(res.statusCode === 200));
      res.on("error", () => finish(false));
    });
    const timer = setTimeout(() => {
      finish(false);
      req.destroy();
    }, timeoutMs);
    req.on("error", () => finish(false));
  });
}

function promote(base, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.request(
      new URL("/promote", base),
      { method: "POST", agent: checkAgent, headers: { "content-length": 0 } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode === 200));
        res.on("error", () => resolve(false));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error("promote timeout")));
    req.on("error", () => resolve(false));
    req.end();
  });
}

let consecutiveFailures = 0;
let busy = false;

async function tick() {
  if (busy || active !== "primary") return;
  busy = true;
  try {
    const ok = await probe(upstreams.primary, opts.checkTimeoutMs);
    consecutiveFailures = ok ? 0 : consecutiveFailures + 1;
    if (consecutiveFailures >= opts.failAfter) {
      const promoted = await promote(upstreams.standby, Math.max(250, opts.checkTimeoutMs * 5));
      if (promoted) {
        active = "standby";
        failovers += 1;
        clearInterval(checkTimer);
        process.stderr.write(`FAILOVER ${performance.now().toFixed(1)}\n`);
      } else {
        process.stderr.write("PROMOTE_FAILED will retry\n");
      }
    }
  } finally {
    busy = false;
  }
}

const checkTimer = setInterval(tick, Math.max(1, opts.checkMs));

// ---------------------------------------------------------------------------------------------
// Metrics: requests the router answered, by upstream and status code, in Prometheus' text
// format at GET /metrics (an SLI source: good = 2xx, total = all).

const requests = new Map();
function countRequest(upstream, code) {
  const key = `${upstream}\u0000${code}`;
  requests.set(key, (requests.get(key) ?? 0) + 1);
}
function metricsText() {
  const lines = [
    "# HELP kv_router_requests_total Requests the router answered, by upstream and status code.",
    "# TYPE kv_router_requests_total counter",
  ];
  for (const [key, n] of requests) {
    const [upstream, code] = key.split("\u0000");
    lines.push(`kv_router_requests_total{upstream="${upstream}",code="${code}"} ${n}`);
  }
  lines.push("# HELP kv_router_failovers_total Failovers from the primary to the standby.");
  lines.push("# TYPE kv_router_failovers_total counter");
  lines.push(`kv_router_failovers_total ${failovers}`);
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Proxy

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function filterHeaders(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  }
  return out;
}

/** Forward once; resolves when the response has been piped or a 502 was sent. */
function forward(req, res, body, target, name, allowRetry) {
  return new Promise((resolve) => {
    const headers = filterHeaders(req.headers);
    delete headers.host;
    headers["content-length"] = String(body.length);
    const upReq = http.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      agent: proxyAgent,
    });
    const timer = setTimeout(() => upReq.destroy(new Error("upstream timeout")), opts.requestTimeoutMs);
    upReq.on("response", (upRes) => {
      const outHeaders = filterHeaders(upRes.headers);
      outHeaders["x-faultline-upstream"] = name;
      countRequest(name, upRes.statusCode ?? 502);
      res.writeHead(upRes.statusCode ?? 502, outHeaders);
      upRes.pipe(res);
      upRes.on("end", () => {
        clearTimeout(timer);
        resolve();
      });
      upRes.on("error", () => {
        clearTimeout(timer);
        res.destroy();
        resolve();
      });
    });
    upReq.on("error", (err) => {
      clearTimeout(timer);
      if (res.headersSent) {
        res.destroy();
        return resolve();
      }
      // A pooled keep-alive socket may have been closed by the upstream just as we reused it.
      if (allowRetry && upReq.reusedSocket && err.code === "ECONNRESET") {
        return resolve(forward(req, res, body, target, name, false));
      }
      countRequest(name, 502);
      sendJson(res, 502, { error: "upstream unreachable", upstream: name, code: err.code ?? err.message });
      resolve();
    });
    upReq.end(body);
  });
}

async function handle(req, res) {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/router/status") {
    return sendJson(res, 200, { active, failovers });
  }
  if (path === "/metrics" && req.method === "GET") {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    return res.end(metricsText());
  }
  const body = await readBody(req, 16 << 20);
  const name = active;
  await forward(req, res, body, upstreams[name], name, true);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) sendJson(res, err.status ?? 500, { error: String(err.message ?? err) });
    else res.destroy();
  });
});
server.keepAliveTimeout = 30_000;

await listenAndAnnounce(server, opts.port, opts.host);
