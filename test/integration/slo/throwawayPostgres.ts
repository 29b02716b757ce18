/**
 * A throwaway PostgreSQL 15 cluster for the history tests: `initdb` and `pg_ctl` run as the
 * `postgres` OS user in a temporary folder, listening on a free loopback port with password
 * authentication; `stop` stops it and removes the folder.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

export const PG_BIN = "/usr/lib/postgresql/15/bin"

/** Why a throwaway cluster cannot be made here, or null. */
export const missing = (): string | null => {
  if (!fs.existsSync(path.join(PG_BIN, "initdb"))) return `${PG_BIN}/initdb is not installed (apt-get install postgresql-15)`
  try {
    execFileSync("id", ["postgres"], { stdio: "ignore" })
  } catch {
    return "there is no postgres OS user"
  }
  if (process.getuid?.() !== 0) return "the tests run as a user that cannot become postgres (needs root for runuser)"
  return null
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const asPostgres = (cmd: string, args: ReadonlyArray<string>) =>
  execFileSync("runuser", ["-u", "postgres", "--", path.join(PG_BIN, cmd), ...args], { stdio: "pipe", timeout: 60_000 })

export interface Cluster {
  readonly url: string
  readonly password: string
  readonly port: number
  readonly stop: () => void
}

export const start = async (): Promise<Cluster> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-pg-"))
  const data = path.join(dir, "data")
  const password = `pw-${Math.random().toString(36).slice(2)}`
  fs.writeFileSync(path.join(dir, "pwfile"), password + "\n")
  execFileSync("chown", ["-R", "postgres:postgres", dir])
  fs.chmodSync(dir, 0o700)
  asPostgres("initdb", ["-D", data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${path.join(dir, "pwfile")}`, "-E", "UTF8"])
  const port = await freePort()
  asPostgres("pg_ctl", [
    "-D",
    data,
    "-l",
    path.join(dir, "log"),
    "-w",
    "-t",
    "60",
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    "start"
  ])
  let stopped = false
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    password,
    port,
    stop: () => {
      if (stopped) return
      stopped = true
      try {
        asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
