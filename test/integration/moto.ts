/**
 * moto's server for AWS integration tests: on 127.0.0.1, a free port, started and stopped
 * by the test itself; dummy credentials from the environment.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as net from "node:net"

/** Why moto cannot run here, or null when it can. */
export const motoMissing = (): string | null => {
  const r = spawnSync("python3", ["-c", "import moto.server, flask"], { encoding: "utf8" })
  if (r.error) return `python3 is not installed (${r.error.message})`
  return r.status === 0 ? null : `moto[server] is not installed (python3 -m pip install "moto[server]"): ${r.stderr.trim().split("\n").at(-1)}`
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
    s.on("error", reject)
  })

export interface Moto {
  readonly endpoint: string
  readonly stop: () => Promise<void>
}

/** Dummy credentials and region for the SDK's default provider chain. */
export const dummyCredentials = () => {
  process.env.AWS_ACCESS_KEY_ID = "testing"
  process.env.AWS_SECRET_ACCESS_KEY = "testing"
  process.env.AWS_REGION = "us-east-1"
  delete process.env.AWS_SESSION_TOKEN
  delete process.env.AWS_PROFILE
}

/** Starts moto on a free loopback port and waits until it answers. */
export const startMoto = async (): Promise<Moto> => {
  const port = await freePort()
  const child: ChildProcess = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" })
  const endpoint = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${endpoint}/moto-api/`)
      if (r.status < 500) break
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}`)
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once("exit", () => resolve())
        child.kill("SIGTERM")
      })
  }
}
