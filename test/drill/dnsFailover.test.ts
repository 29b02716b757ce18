// runbooks/dns-failover.md end to end on moto: weights shifted, a health check inverted, the
// DNS answers measured through a resolver reading the zone; afterwards the zone is exactly
// as it was.
import { GetHealthCheckCommand, ListResourceRecordSetsCommand, Route53Client } from "@aws-sdk/client-route-53"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import { setUp } from "../../examples/dns-failover/setup.mjs"
import { describeWith } from "../integration/require.ts"
import { type Moto, motoMissing, startMoto } from "../integration/moto.ts"
import { faultline, journalOf } from "./helpers.ts"

const env = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" }

describeWith("moto (dns-failover runbook)", motoMissing(), () => {
  let moto: Moto
  beforeAll(async () => {
    Object.assign(process.env, env)
    moto = await startMoto()
  })
  afterAll(() => moto?.stop())

  it("moves DNS answers from blue to green twice, measures them, and restores the zone", async () => {
    const { zoneId, healthChecks } = await setUp(moto.endpoint)
    const client = new Route53Client({ region: "us-east-1", endpoint: moto.endpoint })
    const state = async () => ({
      weights: Object.fromEntries(
        ((await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets ?? [])
          .filter((r) => r.SetIdentifier).map((r) => [r.SetIdentifier, r.Weight])
      ),
      inverted: (await client.send(new GetHealthCheckCommand({ HealthCheckId: healthChecks.blue }))).HealthCheck!.HealthCheckConfig!.Inverted ?? false
    })
    const before = await state()
    expect(before).toEqual({ weights: { blue: 100, green: 50 }, inverted: false })
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-dns-"))
    const r = await faultline(["drill", "runbooks/dns-failover.md", "--answers", "runbooks/answers/dns-failover.yaml", "--out", out], {
      ...env,
      FAULTLINE_AWS_ENDPOINT: moto.endpoint,
      FAULTLINE_DNS_ZONE: zoneId
    })
    expect(r.code, r.stderr + r.stdout).toBe(0)
    const { events, drill } = journalOf(out)
    expect(drill.status).toBe("passed")
    expect(events.filter((e) => e._tag === "FaultInjected").map((e) => e.fault)).toEqual(["aws.route53.setWeight", "aws.route53.invertHealthCheck"])
    expect(events.filter((e) => e._tag === "FaultReverted")).toHaveLength(2)
    // DNS answers measured: green answered after each move, blue before and between them.
    const answers = (step: string) => drill.steps.find((s: any) => s.stepId === step).detail
    expect(answers("dns-answers-green")).toMatch(/dns answers green: 3 good samples in a row/)
    expect(answers("dns-fails-over-to-green")).toMatch(/dns answers green: 3 good samples in a row/)
    expect(answers("dns-answers-blue-again")).toMatch(/dns answers blue: 3 good samples in a row/)
    const green = events.filter((e) => e._tag === "Sample" && e.hypothesis === "dns answers green" && e.sample.ok)
    expect(green[0].sample.value).toEqual(["192.0.2.20"])
    expect(drill.rto.stopMono - drill.rto.startMono).toBeLessThan(60_000)
    // The zone is exactly as it was.
    expect(await state()).toEqual(before)
  })
})
