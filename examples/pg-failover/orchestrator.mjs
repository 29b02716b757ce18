// A stand-in for the failover automation a runbook calls (Patroni's REST API, a cloud's
// failover call): an HTTP endpoint on loopback that, when POSTed to (the runbook's notify step
// sends a Slack-compatible JSON payload), promotes the first standby among $FAULTLINE_PG_NODES
// with pg_promote(wait => true) and answers 200 with its address, or 409 when no node is a
// standby. The password is in $FAULTLINE_PG_PASSWORD.
//
//   node examples/pg-failover/orchestrator.mjs --port 47561     (prints "LISTENING <port>")
import * as http from "node:http"
import pg from "pg"

const port = Number(process.argv[process.argv.indexOf("--port") + 1] ?? 0)
const urls = (process.env.FAULTLINE_PG_NODES ?? "").split(",").filter((u) => u !== "")
const password = process.env.FAULTLINE_PG_PASSWORD
// The URL has no password (it is never written down); the client takes it separately.
const parts = (url) => {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), database: u.pathname.slice(1) || "postgres", password }
}

const withClient = async (url, f) => {
  const client = new pg.Client({ ...parts(url), connectionTimeoutMillis: 1000 })
  try {
    await client.connect()
    return await f(client)
  } catch {
    return null
  } finally {
    await client.end().catch(() => undefined)
  }
}

const promote = async () => {
  for (const url of urls) {
    const inRecovery = await withClient(url, async (c) => (await c.query("select pg_is_in_recovery() as r")).rows[0].r)
    if (inRecovery !== true) continue
    const done = await withClient(url, async (c) => (await c.query("select pg_promote(true, 60) as ok")).rows[0].ok)
    if (done === true) return new URL(url).host
  }
  return null
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST") {
    res.writeHead(405).end()
    return
  }
  req.resume()
  req.on("end", async () => {
    const promoted = await promote()
    res.writeHead(promoted === null ? 409 : 200, { "content-type": "application/json" })
    res.end(JSON.stringify(promoted === null ? { error: "no standby to promote" } : { promoted }))
  })
})
server.listen(port, "127.0.0.1", () => process.stdout.write(`LISTENING ${server.address().port}\n`))
