// A write check for the pg-failover runbook's hypothesis (a command probe): finds the node that
// accepts writes among $FAULTLINE_PG_NODES (comma-separated postgres:// URLs without password;
// the password is in $FAULTLINE_PG_PASSWORD) and proves it takes a write — DDL in a transaction
// that is rolled back, so checking leaves nothing behind. Prints the writer's host:port; exit 1
// when no node accepts writes.
import pg from "pg"

const urls = (process.env.FAULTLINE_PG_NODES ?? "").split(",").filter((u) => u !== "")
const password = process.env.FAULTLINE_PG_PASSWORD
// The URL has no password (it is never written down); the client takes it separately.
const parts = (url) => {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), database: u.pathname.slice(1) || "postgres", password }
}

const errors = []
const tryWrite = async (url) => {
  const client = new pg.Client({ ...parts(url), connectionTimeoutMillis: 1000, statement_timeout: 1000 })
  try {
    await client.connect()
    await client.query("BEGIN")
    await client.query("CREATE TABLE faultline_write_check (x int)")
    await client.query("ROLLBACK")
    const u = new URL(url)
    return `${u.hostname}:${u.port}`
  } catch (e) {
    errors.push(`${new URL(url).host}: ${e.message}`)
    return null
  } finally {
    await client.end().catch(() => undefined)
  }
}

for (const url of urls) {
  const writer = await tryWrite(url)
  if (writer !== null) {
    process.stdout.write(`${writer}\n`)
    process.exit(0)
  }
}
process.stderr.write(`no node accepts writes (${errors.join("; ") || "no nodes in $FAULTLINE_PG_NODES"})\n`)
process.exit(1)
