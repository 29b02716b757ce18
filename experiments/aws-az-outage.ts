// AZ outage drill: stop the tagged EC2 instances of one availability zone and fail the RDS
// cluster over, while an HTTP probe watches the app; measures RTO.
//
// Run against moto (started by this file on 127.0.0.1:5055 unless FAULTLINE_AWS_ENDPOINT is set;
// needs `python3 -m pip install "moto[server]"`):
//
//   npx faultline run experiments/aws-az-outage.ts
//   FAULTLINE_AWS_ENDPOINT=http://127.0.0.1:5055 npx faultline plan experiments/aws-az-outage.ts
//     (plan never runs `setup`: it reads what is already there, and changes nothing)
//
// Against real AWS: remove the seeding and the moto start, set AWS_REGION and credentials as usual
// (the SDK's default chain), and tag the instances faultline:allow=true.
import * as http from "node:http"
import { RunInstancesCommand } from "@aws-sdk/client-ec2"
import { CreateDBClusterCommand, CreateDBInstanceCommand } from "@aws-sdk/client-rds"
import { Effect } from "effect"
import { Abort, Experiment, Fault, Hypothesis, Probe, Process, Selector, Stopwatch, Tolerance } from "faultline"
import * as Aws from "faultline/aws"

const endpoint = process.env.FAULTLINE_AWS_ENDPOINT ?? "http://127.0.0.1:5055"
const ownMoto = process.env.FAULTLINE_AWS_ENDPOINT === undefined
// moto accepts any credentials; real ones come from the SDK's default provider chain.
if (ownMoto) {
  process.env.AWS_ACCESS_KEY_ID ??= "testing"
  process.env.AWS_SECRET_ACCESS_KEY ??= "testing"
}

/** The services this experiment needs beyond the process driver; the CLI provides them. */
export const layer = Aws.AwsDriver.layerConfig({ region: "us-east-1", endpoint })

const AZ = "us-east-1a"
const CLUSTER = "orders-db"

// The app's port, known once `setup` has started it.
let appPort = 0

/**
 * The set-up: starts moto (unless FAULTLINE_AWS_ENDPOINT is set), seeds it, starts the app.
 * `faultline run` runs it before the experiment; `faultline plan` and `--dry-run` never do.
 */
export const setup = Effect.gen(function*() {
  const aws = yield* Aws.AwsDriver
  if (ownMoto) {
    const processes = yield* Process.ProcessDriver
    yield* processes.start({
      name: "moto",
      command: "sh",
      args: ["-c", "exec python3 -m moto.server -H 127.0.0.1 -p 5055 2>&1"],
      ready: "Running on",
      readyTimeoutMs: 30_000
    })
  }
  // Seed: three web instances per AZ (tagged for chaos), an Aurora cluster with two instances.
  for (const az of [AZ, "us-east-1b"]) {
    yield* Effect.tryPromise(() =>
      aws.clients.ec2.send(
        new RunInstancesCommand({
          ImageId: "ami-12c6146b",
          MinCount: 3,
          MaxCount: 3,
          Placement: { AvailabilityZone: az },
          TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "faultline:allow", Value: "true" }, { Key: "role", Value: "web" }] }]
        })
      )
    )
  }
  yield* Effect.tryPromise(() =>
    aws.clients.rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: CLUSTER,
        Engine: "aurora-postgresql",
        MasterUsername: "app",
        MasterUserPassword: "moto-only-password",
        Tags: [{ Key: "faultline:allow", Value: "true" }]
      })
    )
  ).pipe(Effect.ignore)
  for (const [id, az] of [[`${CLUSTER}-1`, AZ], [`${CLUSTER}-2`, "us-east-1b"]]) {
    yield* Effect.tryPromise(() =>
      aws.clients.rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: id,
          DBClusterIdentifier: CLUSTER,
          Engine: "aurora-postgresql",
          DBInstanceClass: "db.r5.large",
          AvailabilityZone: az
        })
      )
    ).pipe(Effect.ignore)
  }
  // The app: serves while it is connected to the cluster's writer; when the writer changes it
  // takes 300 ms to reconnect (503 meanwhile) — the outage the RTO measures.
  appPort = yield* Effect.promise(() => startApp(aws))
})

/** The experiment itself: builds it, touching nothing (what `plan` runs). */
export default Effect.sync(() => {
  const serves = Hypothesis.make("app serves", {
    probe: Probe.http(`http://127.0.0.1:${appPort}/health`, { timeout: "500 millis" }),
    every: "20 millis",
    tolerance: Tolerance.successRatio({ atLeast: 0.9, confidence: 0.95 })
  })
  return Experiment.make({
    name: "aws az outage",
    description: `stop the web instances of ${AZ} and fail ${CLUSTER} over`,
    hypothesis: serves,
    method: Effect.gen(function*() {
      yield* Fault.inject(Aws.ec2.stop({ target: Selector.label("role", "web"), az: AZ }))
      yield* Fault.inject(Aws.rds.failoverCluster({ target: Selector.id(CLUSTER) }))
      yield* Effect.sleep("2 seconds")
    }),
    abort: [Abort.maxDuration("1 minute"), Abort.signals()],
    stopwatches: { rto: Stopwatch.rto(serves, { stableFor: 5 }) },
    objectives: { rto: "2 seconds" },
    guards: Aws.defaultGuards
  })
})

const startApp = (aws: Aws.AwsDriver["Service"]) =>
  new Promise<number>((resolve) => {
    let ready: () => void
    const firstPoll = new Promise<void>((r) => (ready = r))
    let writer: string | null = null
    let reconnectingUntil = 0
    const poll = async () => {
      const exit = await Effect.runPromise(Effect.exit(Effect.provideService(Aws.probes.clusterStatus(CLUSTER), Aws.AwsDriver, aws)))
      const w = exit._tag === "Success" ? (exit.value as Aws.probes.ClusterStatus).writer : null
      if (w !== null && writer !== null && w !== writer) reconnectingUntil = performance.now() + 300
      if (w !== null) writer = w
      ready()
    }
    const timer = setInterval(() => void poll(), 25)
    timer.unref()
    const server = http.createServer((_req, res) => {
      const ok = writer !== null && performance.now() >= reconnectingUntil
      res.writeHead(ok ? 200 : 503).end(ok ? "ok" : "reconnecting")
    })
    server.unref()
    server.listen(0, "127.0.0.1", () => void firstPoll.then(() => resolve((server.address() as any).port)))
  })
