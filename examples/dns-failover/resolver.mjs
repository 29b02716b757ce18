// A DNS server that answers A queries from a Route 53 hosted zone's weighted records, the way
// Route 53's resolvers would: records whose health check is unhealthy are left out (unless all
// are), and of the rest the heaviest answers (Route 53 picks at random by weight; this picks
// deterministically so a drill can measure which record DNS sends clients to). moto keeps
// Route 53's API but answers no DNS, and cannot probe endpoints: a health check is healthy
// unless it is inverted. Reads the zone at every query, so a change shows at once.
//
//   node examples/dns-failover/resolver.mjs --zone ZONE_ID --port 47553
//   (endpoint from $FAULTLINE_AWS_ENDPOINT or $AWS_ENDPOINT_URL; prints "LISTENING <port>")
import * as dgram from "node:dgram"
import { GetHealthCheckCommand, ListResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53"

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}
const zone = arg("zone")
const port = Number(arg("port", "0"))
if (!zone) {
  process.stderr.write("error: --zone ZONE_ID is required\n")
  process.exit(2)
}
const client = new Route53Client({
  region: process.env.AWS_REGION ?? "us-east-1",
  endpoint: process.env.FAULTLINE_AWS_ENDPOINT ?? process.env.AWS_ENDPOINT_URL
})

const healthy = async (id) => {
  if (!id) return true
  const hc = await client.send(new GetHealthCheckCommand({ HealthCheckId: id }))
  return hc.HealthCheck?.HealthCheckConfig?.Inverted !== true
}

// The A values DNS gives for `name`, or null when the zone has no such name.
const answer = async (name) => {
  const fq = name.endsWith(".") ? name.toLowerCase() : `${name.toLowerCase()}.`
  const r = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone, StartRecordName: fq, StartRecordType: "A" }))
  const sets = (r.ResourceRecordSets ?? []).filter((s) => s.Name.toLowerCase() === fq && s.Type === "A")
  if (sets.length === 0) return null
  const plain = sets.find((s) => s.Weight === undefined)
  if (plain) return plain.ResourceRecords.map((x) => x.Value)
  const withHealth = await Promise.all(sets.map(async (s) => ({ s, ok: await healthy(s.HealthCheckId) })))
  const live = withHealth.filter((x) => x.ok).map((x) => x.s)
  const pool = (live.length > 0 ? live : sets).filter((s) => s.Weight > 0)
  if (pool.length === 0) return []
  pool.sort((a, b) => b.Weight - a.Weight || a.SetIdentifier.localeCompare(b.SetIdentifier))
  return pool[0].ResourceRecords.map((x) => x.Value)
}

const readName = (msg, offset) => {
  const labels = []
  let i = offset
  while (msg[i] !== 0) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]).toString("ascii"))
    i += msg[i] + 1
  }
  return { name: labels.join("."), end: i + 1 }
}

const reply = (query, rcode, values) => {
  const { end } = readName(query, 12)
  const question = query.subarray(12, end + 4)
  const header = Buffer.alloc(12)
  query.copy(header, 0, 0, 2)
  header.writeUInt16BE(0x8180 | rcode, 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(values.length, 6)
  const answers = values.map((v) => {
    const a = Buffer.alloc(16)
    a.writeUInt16BE(0xc00c, 0)
    a.writeUInt16BE(1, 2)
    a.writeUInt16BE(1, 4)
    a.writeUInt32BE(0, 6)
    a.writeUInt16BE(4, 10)
    v.split(".").forEach((o, k) => a.writeUInt8(Number(o), 12 + k))
    return a
  })
  return Buffer.concat([header, question, ...answers])
}

const server = dgram.createSocket("udp4")
server.on("message", async (msg, rinfo) => {
  try {
    const { name, end } = readName(msg, 12)
    const type = msg.readUInt16BE(end)
    const values = await answer(name)
    const out = values === null ? reply(msg, 3, []) : reply(msg, 0, type === 1 ? values : [])
    server.send(out, rinfo.port, rinfo.address)
  } catch (e) {
    process.stderr.write(`query failed: ${e.message}\n`)
    server.send(reply(msg, 2, []), rinfo.port, rinfo.address)
  }
})
server.bind(port, "127.0.0.1", () => process.stdout.write(`LISTENING ${server.address().port}\n`))
