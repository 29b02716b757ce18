// Creates the Route 53 set-up the dns-failover runbook drills: a hosted zone `shop.test`
// with two weighted A records for `api.shop.test` (blue 192.0.2.10, weight 100; green
// 192.0.2.20, weight 50), each with an HTTP health check named after it; every resource tagged
// `faultline:allow=true`. Prints `{ "zoneId": ... }`. Against moto:
//   FAULTLINE_AWS_ENDPOINT=http://127.0.0.1:5000 node examples/dns-failover/setup.mjs
import {
  ChangeResourceRecordSetsCommand,
  ChangeTagsForResourceCommand,
  CreateHealthCheckCommand,
  CreateHostedZoneCommand,
  Route53Client
} from "@aws-sdk/client-route-53"

export const setUp = async (endpoint = process.env.FAULTLINE_AWS_ENDPOINT ?? process.env.AWS_ENDPOINT_URL) => {
  const client = new Route53Client({ region: process.env.AWS_REGION ?? "us-east-1", endpoint })
  const allow = [{ Key: "faultline:allow", Value: "true" }]
  const zone = await client.send(new CreateHostedZoneCommand({ Name: "shop.test", CallerReference: `shop-${Date.now()}-${Math.random()}` }))
  const zoneId = zone.HostedZone.Id.replace(/^\/hostedzone\//, "")
  await client.send(new ChangeTagsForResourceCommand({ ResourceType: "hostedzone", ResourceId: zoneId, AddTags: allow }))
  const records = [["blue", "192.0.2.10", 100], ["green", "192.0.2.20", 50]]
  const checks = {}
  for (const [name, ip] of records) {
    const hc = await client.send(new CreateHealthCheckCommand({ CallerReference: `${name}-${Date.now()}-${Math.random()}`, HealthCheckConfig: { Type: "HTTP", IPAddress: ip, Port: 80, ResourcePath: "/health" } }))
    checks[name] = hc.HealthCheck.Id
    await client.send(new ChangeTagsForResourceCommand({ ResourceType: "healthcheck", ResourceId: hc.HealthCheck.Id, AddTags: [...allow, { Key: "Name", Value: `api-${name}` }] }))
  }
  await client.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: zoneId,
    ChangeBatch: {
      Changes: records.map(([name, ip, weight]) => ({
        Action: "CREATE",
        ResourceRecordSet: { Name: "api.shop.test", Type: "A", SetIdentifier: name, Weight: weight, TTL: 0, HealthCheckId: checks[name], ResourceRecords: [{ Value: ip }] }
      }))
    }
  }))
  return { zoneId, healthChecks: checks }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  setUp().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`), (e) => {
    process.stderr.write(`${e.message}\n`)
    process.exit(1)
  })
}
