/**
 * `faultline proxy` as a user runs it: where it binds and what it prints, its API token (file,
 * environment, `--no-token`), and that its API refuses what a browser page can send. The CLI
 * runs from source with Node 24 (no build, so this file never races another file's build).
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, afterEach, assert, describe, it } from "@effect/vitest"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const node = path.join(root, "node_modules", ".bin", "node")
const main = path.join(root, "src", "cli", "main.ts")

interface Running {
  readonly child: ReturnType<typeof spawn>
  readonly stdout: () => string
  readonly stderr: () => string
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const running: Array<Running> = []

const start = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}): Running => {
  const fullEnv = { ...process.env, ...env }
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete fullEnv[k]
  const child = spawn(node, [main, "proxy", ...args], { cwd: root, env: fullEnv, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  child.stdout!.setEncoding("utf8").on("data", (c: string) => void (stdout += c))
  child.stderr!.setEncoding("utf8").on("data", (c: string) => void (stderr += c))
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })))
  const r = { child, stdout: () => stdout, stderr: () => stderr, done }
  running.push(r)
  return r
}

// SIGTERM (the CLI stops cleanly), SIGKILL if still there 5 s later.
const stop = async (r: Running) => {
  if (r.child.exitCode === null && r.child.signalCode === null) {
    r.child.kill("SIGTERM")
    setTimeout(() => {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL")
    }, 5_000).unref()
  }
  return r.done
}

afterEach(async () => {
  await Promise.all(running.splice(0).map(stop))
})

const tmpDirs: Array<string> = []
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-proxy-cli-"))
  tmpDirs.push(d)
  return d
}
afterAll(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

const waitFor = async (what: string, pred: () => boolean, r: Running, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline || r.child.exitCode !== null) throw new Error(`no ${what}\nstdout: ${r.stdout()}\nstderr: ${r.stderr()}`)
    await new Promise((res) => setTimeout(res, 25))
  }
}

/** Starts the proxy and waits for its URL. */
const listening = async (args: ReadonlyArray<string>, env?: Record<string, string | undefined>) => {
  const r = start(args, env)
  await waitFor("listening line", () => /listening on (http:\S+)/.test(r.stdout()), r)
  // The token lines follow the listening line in the same tick; wait for the output to settle.
  await waitFor("token line", () => /writes need/.test(r.stdout()), r)
  return { r, url: /listening on (http:\S+)/.exec(r.stdout())![1]! }
}

const accepts = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const c = net.connect({ host, port })
    c.once("connect", () => {
      c.destroy()
      resolve(true)
    })
    c.once("error", () => resolve(false))
  })

const create = (url: string, headers: Record<string, string> = {}, listen = "127.0.0.1:0") =>
  fetch(`${url}/proxies`, { method: "POST", headers, body: JSON.stringify({ name: `p${Math.random()}`, listen, upstream: "127.0.0.1:1" }) })

describe("faultline proxy: where it listens", () => {
  it("--listen :PORT binds 127.0.0.1 only and prints that address", async () => {
    const { url } = await listening(["--listen", ":0", "--token-file", path.join(tmp(), "t")])
    const u = new URL(url)
    assert.strictEqual(u.hostname, "127.0.0.1")
    const port = Number(u.port)
    assert.isTrue(await accepts("127.0.0.1", port))
    // Bound to all interfaces, [::1] (and every other address) would answer too.
    assert.isFalse(await accepts("::1", port))
  })

  it("--no-token with a non-loopback --listen exits 2 with one line", async () => {
    const r = start(["--no-token", "--listen", "0.0.0.0:0"])
    const done = await r.done
    assert.strictEqual(done.code, 2, r.stderr())
    assert.include(r.stderr(), "loopback")
    assert.notMatch(r.stderr(), /^\s{4}at /m)
  })
})

describe("faultline proxy: the API token", () => {
  it("writes the token to a 0600 file, prints how to use it, needs it for writes and removes it on exit", async () => {
    const dir = path.join(tmp(), "new-dir")
    const file = path.join(dir, "proxy.token")
    const { r, url } = await listening(["--listen", "127.0.0.1:0", "--token-file", file], { FAULTLINE_PROXY_TOKEN: undefined })
    assert.include(r.stdout(), file)
    assert.include(r.stdout(), "Authorization: Bearer")
    assert.include(r.stdout(), "FAULTLINE_PROXY_TOKEN")
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600)
    assert.strictEqual(fs.statSync(dir).mode & 0o777, 0o700)
    const token = fs.readFileSync(file, "utf8").trim()
    assert.match(token, /^[A-Za-z0-9_-]{40,}$/)
    assert.notInclude(r.stdout(), token)
    assert.strictEqual((await create(url)).status, 401)
    assert.strictEqual((await create(url, { Authorization: "Bearer nope" })).status, 401)
    assert.strictEqual((await create(url, { Authorization: `Bearer ${token}` })).status, 201)
    assert.strictEqual((await fetch(`${url}/proxies`)).status, 200)
    const done = await stop(r)
    assert.notStrictEqual(done.signal, "SIGKILL")
    assert.isFalse(fs.existsSync(file))
  })

  it("takes the token from $FAULTLINE_PROXY_TOKEN, and then writes no file", async () => {
    const file = path.join(tmp(), "unused.token")
    const { r, url } = await listening(["--listen", "127.0.0.1:0", "--token-file", file], { FAULTLINE_PROXY_TOKEN: "env-token-for-the-cli-test" })
    assert.include(r.stdout(), "$FAULTLINE_PROXY_TOKEN")
    assert.notInclude(r.stdout(), "env-token-for-the-cli-test")
    assert.isFalse(fs.existsSync(file))
    assert.strictEqual((await create(url)).status, 401)
    assert.strictEqual((await create(url, { Authorization: "Bearer env-token-for-the-cli-test" })).status, 201)
  })

  it("--no-token lets writes through on loopback and says so", async () => {
    const { r, url } = await listening(["--no-token", "--listen", "127.0.0.1:0"])
    assert.include(r.stdout(), "no token")
    assert.strictEqual((await create(url)).status, 201)
  })
})

describe("faultline proxy: what a browser page can send", () => {
  it("the reproduced text/plain POST (browser agent, foreign Origin, rebinding Host) is 403 and a 0.0.0.0 proxy is refused", async () => {
    const file = path.join(tmp(), "t")
    const { url } = await listening(["--listen", "127.0.0.1:0", "--token-file", file])
    const port = Number(new URL(url).port)
    // Raw HTTP: fetch cannot set Host.
    const reply = await new Promise<string>((resolve, reject) => {
      const body = JSON.stringify({ name: "evil", listen: "0.0.0.0:0", upstream: "127.0.0.1:1" })
      const c = net.connect(
        { host: "127.0.0.1", port },
        () =>
          c.write(
            `POST /proxies HTTP/1.1\r\nHost: rebind.attacker.example:${port}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n` +
              `Origin: http://attacker.example\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
          )
      )
      let got = ""
      c.setEncoding("utf8").on("data", (d: string) => void (got += d))
      c.on("end", () => resolve(got))
      c.on("error", reject)
    })
    assert.match(reply, /^HTTP\/1\.1 403 /)
    assert.deepStrictEqual(await (await fetch(`${url}/proxies`)).json(), {})
    // Even with the token, a proxy on every interface needs --allow-non-loopback-proxies.
    const token = fs.readFileSync(file, "utf8").trim()
    assert.strictEqual((await create(url, { Authorization: `Bearer ${token}` }, "0.0.0.0:0")).status, 403)
    assert.deepStrictEqual(await (await fetch(`${url}/proxies`)).json(), {})
  })
})
