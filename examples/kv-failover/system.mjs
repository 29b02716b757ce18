#!/usr/bin/env node
// system.mjs — start standby, primary and router as child processes.
//
//   import { startSystem } from "./system.mjs";
//   const sys = await startSystem({ lagMs: 50 });
//   ... sys.routerUrl, sys.pids.primary ...
//   await sys.stop();
//
// Run directly: `node examples/kv-failover/system.mjs [--lag-ms 50] [--check-ms 20]
// [--fail-after 2] [--check-timeout-ms 50] [--host 127.0.0.1]` prints one JSON line
// {routerUrl, primaryUrl, standbyUrl, pids} and stops everything on SIGINT/SIGTERM.
import { spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const script = (name) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const KV = script("kv.mjs");
const ROUTER = script("router.mjs");
const OUTAGE_FIXTURE = script("outage-fixture.mjs");

const KILL_GRACE_MS = 1000;

function urlFor(host, port) {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Spawn `node <scriptPath> ...args --parent-pid <our pid>` and return a handle immediately.
 * handle.ready resolves with the port from the child's `LISTENING <port>` line.
 */
export function spawnService(scriptPath, args = [], { name = scriptPath, onStderr, readyTimeoutMs = 10_000 } = {}) {
  const child = spawn(process.execPath, [scriptPath, ...args, "--parent-pid", String(process.pid)], {
    stdio: ["ignore", "pipe", onStderr ? "pipe" : "inherit"],
  });
  let exited = false;
  const exitPromise = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
    child.once("error", () => {
      exited = true;
      resolve({ code: null, signal: null });
    });
  });

  if (onStderr) {
    let buf = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        onStderr(buf.slice(0, nl), name);
        buf = buf.slice(nl + 1);
      }
    });
  }

  const ready = new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${name}: no LISTENING line within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.stdout.setEncoding("utf8");
    const onData = (chunk) => {
      out += chunk;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      const line = out.slice(0, nl).trim();
      const m = /^LISTENING (\d+)$/.exec(line);
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.stdout.resume(); // keep draining anything else the child prints
      if (m) resolve(Number(m[1]));
      else reject(new Error(`${name}: unexpected first stdout line: ${JSON.stringify(line)}`));
    };
    child.stdout.on("data", onData);
    exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before listening (code=${code}, signal=${signal})`));
    });
  });
  ready.catch(() => {}); // handled by whoever awaits it; avoid unhandled rejections after success

  let stopPromise;
  const stop = () =>
    (stopPromise ??= (async () => {
      if (!exited) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => {
          if (!exited) child.kill("SIGKILL");
        }, KILL_GRACE_MS);
        await exitPromise;
        clearTimeout(timer);
      }
    })());

  return {
    name,
    child,
    get pid() {
      return child.pid;
    },
    ready,
    exited: exitPromise,
    stop,
    killNow() {
      if (!exited) child.kill("SIGKILL");
    },
  };
}

/** Track handles so that they are SIGKILLed if this process exits without calling stop(). */
function makeGroup() {
  const handles = [];
  const onExit = () => {
    for (const h of handles) h.killNow();
  };
  process.on("exit", onExit);
  let stopPromise;
  return {
    add(h) {
      handles.push(h);
      return h;
    },
    stop() {
      return (stopPromise ??= Promise.all(handles.map((h) => h.stop())).then(() => {
        process.off("exit", onExit);
      }));
    },
  };
}

/**
 * Start standby, primary (replicating to the standby) and router.
 * @returns {Promise<{routerUrl: string, primaryUrl: string, standbyUrl: string,
 *   pids: {router: number, primary: number, standby: number}, stop: () => Promise<void>}>}
 */
export async function startSystem(options = {}) {
  const { lagMs = 50, checkMs = 20, failAfter = 2, checkTimeoutMs = 50, host = "127.0.0.1", onStderr } = options;
  const group = makeGroup();
  try {
    const standby = group.add(
      spawnService(KV, ["--port", "0", "--host", host, "--role", "standby"], { name: "standby", onStderr }),
    );
    const standbyUrl = urlFor(host, await standby.ready);

    const primary = group.add(
      spawnService(
        KV,
        ["--port", "0", "--host", host, "--role", "primary", "--replicate-to", standbyUrl, "--lag-ms", String(lagMs)],
        { name: "primary", onStderr },
      ),
    );
    const primaryUrl = urlFor(host, await primary.ready);

    const router = group.add(
      spawnService(
        ROUTER,
        [
          "--port", "0",
          "--host", host,
          "--primary", primaryUrl,
          "--standby", standbyUrl,
          "--check-ms", String(checkMs),
          "--fail-after", String(failAfter),
          "--check-timeout-ms", String(checkTimeoutMs),
        ],
        { name: "router", onStderr },
      ),
    );
    const routerUrl = urlFor(host, await router.ready);

    return {
      routerUrl,
      primaryUrl,
      standbyUrl,
      pids: { router: router.pid, primary: primary.pid, standby: standby.pid },
      stop: () => group.stop(),
    };
  } catch (err) {
    await group.stop();
    throw err;
  }
}

/**
 * Start the outage fixture (see outage-fixture.mjs).
 * @returns {Promise<{url: string, pid: number, stop: () => Promise<void>}>}
 */
export async function startOutageFixture(options = {}) {
  const { host = "127.0.0.1", onStderr } = options;
  const group = makeGroup();
  const h = group.add(spawnService(OUTAGE_FIXTURE, ["--port", "0", "--host", host], { name: "outage-fixture", onStderr }));
  try {
    const port = await h.ready;
    return { url: urlFor(host, port), pid: h.pid, stop: () => group.stop() };
  } catch (err) {
    await group.stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// CLI

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

async function main() {
  const flags = { "--lag-ms": "lagMs", "--check-ms": "checkMs", "--fail-after": "failAfter", "--check-timeout-ms": "checkTimeoutMs", "--host": "host" };
  const options = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].split(/=(.*)/s);
    if (value === undefined) value = argv[++i];
    const key = flags[flag];
    if (!key || value === undefined) {
      process.stderr.write(`usage: node system.mjs ${Object.keys(flags).map((f) => `[${f} X]`).join(" ")}\n`);
      process.exit(2);
    }
    options[key] = key === "host" ? value : Number(value);
  }
  const system = await startSystem(options);
  const { routerUrl, primaryUrl, standbyUrl, pids } = system;
  process.stdout.write(JSON.stringify({ routerUrl, primaryUrl, standbyUrl, pids }) + "\n");
  const shutdown = () => {
    system.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
  // Stay alive even if every child has been killed by an experiment.
  setInterval(() => {}, 1 << 30);
}

if (isMain()) {
  main().catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
