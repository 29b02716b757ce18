// Shared helpers for the kv-failover example processes (kv, router, outage fixture).
// Node built-ins only.
import { readFileSync } from "node:fs";
import process from "node:process";

/**
 * Parse `--flag value` / `--flag=value` arguments according to `spec`.
 * spec: { camelName: { type: "number" | "string", default } }
 * Each flag may also come from the environment as KVF_<UPPER_SNAKE> (flags win).
 * Unknown flags or bad values print an error and exit with code 2.
 */
export function parseFlags(argv, spec) {
  const byFlag = new Map();
  const out = {};
  for (const [name, def] of Object.entries(spec)) {
    const kebab = name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
    const env = "KVF_" + kebab.replace(/-/g, "_").toUpperCase();
    byFlag.set(kebab, name);
    const raw = process.env[env];
    out[name] = raw !== undefined && raw !== "" ? convert(name, def.type, raw) : def.default;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) usage(`unexpected argument: ${arg}`);
    let flag = arg.slice(2);
    let value;
    const eq = flag.indexOf("=");
    if (eq >= 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    } else {
      if (i + 1 >= argv.length) usage(`missing value for --${flag}`);
      value = argv[++i];
    }
    const name = byFlag.get(flag);
    if (name === undefined) usage(`unknown flag: --${flag}`);
    out[name] = convert(name, spec[name].type, value);
  }
  return out;
}

function convert(name, type, raw) {
  if (type === "number") {
    const n = Number(raw);
    if (raw === "" || !Number.isFinite(n)) usage(`invalid number for ${name}: ${raw}`);
    return n;
  }
  return String(raw);
}

function usage(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return Boolean(err && err.code === "EPERM");
  }
  // kill(pid, 0) also succeeds for a zombie: a dead parent that nobody has reaped yet (common in
  // containers whose PID 1 reaps lazily). On Linux, treat state "Z" as dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true; // no procfs (macOS etc.): trust kill(pid, 0)
  }
}

/** Exit when the process `parentPid` is gone (polled every `intervalMs`). */
export function watchParent(parentPid, intervalMs = 200) {
  if (!parentPid) return;
  const timer = setInterval(() => {
    if (!isAlive(parentPid)) process.exit(0);
  }, intervalMs);
  timer.unref();
}

/** Read a whole request body (capped at `limit` bytes). */
export function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error("body too large"), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function sendJson(res, status, body, extraHeaders = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
    ...extraHeaders,
  });
  res.end(payload);
}

/** Listen, then print exactly one `LISTENING <port>` line on stdout. */
export function listenAndAnnounce(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const actual = server.address().port;
      process.stdout.write(`LISTENING ${actual}\n`);
      resolve(actual);
    });
  });
}
