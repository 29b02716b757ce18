/**
 * A Docker test session: fixture images built with `docker import` (scripts/docker-images.sh),
 * a user-defined network, containers labelled with the session id, and a cleanup that removes
 * every container, network, volume and image tag the session created.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import type Dockerode from "dockerode"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const run = promisify(execFile)

export const SESSION_LABEL = "faultline.test-session"

/** Why Docker tests cannot run here, or null when an engine answers. */
export const dockerMissing = async (socketPath = "/var/run/docker.sock"): Promise<string | null> => {
  let Docker: typeof Dockerode
  try {
    Docker = (await import("dockerode")).default
  } catch (e) {
    return `dockerode is not installed (${(e as Error).message})`
  }
  try {
    await new Docker({ socketPath }).ping()
    return null
  } catch (e) {
    return `no Docker Engine answers on ${socketPath} (${(e as Error).message})`
  }
}

export interface Session {
  readonly id: string
  readonly docker: Dockerode
  readonly images: { readonly busybox: string; readonly node: string; readonly nettools: string }
  readonly network: string
  readonly labels: Record<string, string>
  /** Creates and starts a container on the session network; returns its id. */
  readonly start: (name: string, options?: ContainerOptions) => Promise<string>
  readonly cleanup: () => Promise<void>
}

export interface ContainerOptions {
  readonly image?: string
  readonly cmd?: ReadonlyArray<string>
  readonly labels?: Record<string, string>
  /** Without `faultline.allow=true` (to test the default guard). */
  readonly unguarded?: boolean
  readonly aliases?: ReadonlyArray<string>
  /** Container ports published on 127.0.0.1, on ephemeral host ports. */
  readonly publish?: ReadonlyArray<number>
  readonly healthcheck?: ReadonlyArray<string>
  readonly env?: ReadonlyArray<string>
  readonly binds?: ReadonlyArray<string>
  readonly restart?: "no" | "always"
  readonly network?: string
}

/** Starts a session: builds the fixture images under a session tag and creates a network. */
export const startSession = async (prefix = "faultline-test"): Promise<Session> => {
  const Docker = (await import("dockerode")).default
  const docker = new Docker()
  const id = `${prefix}-${Math.random().toString(36).slice(2, 10)}`
  const labels = { [SESSION_LABEL]: id, "faultline.run": id }
  const tag = id
  await run("bash", [`${root}scripts/docker-images.sh`, "faultline-fixture/", tag, `${SESSION_LABEL}=${id}`], { cwd: root })
  const images = { busybox: `faultline-fixture/busybox:${tag}`, node: `faultline-fixture/node:${tag}`, nettools: `faultline-fixture/nettools:${tag}` }
  const network = id
  await docker.createNetwork({ Name: network, Driver: "bridge", Labels: labels })
  const start = async (name: string, o: ContainerOptions = {}) => {
    const net = o.network ?? network
    const c = await docker.createContainer({
      name,
      Image: o.image ?? images.busybox,
      Cmd: [...(o.cmd ?? ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"])],
      Env: [...(o.env ?? [])],
      Labels: { ...labels, ...(o.unguarded ? {} : { "faultline.allow": "true" }), ...o.labels },
      ExposedPorts: Object.fromEntries((o.publish ?? []).map((p) => [`${p}/tcp`, {}])),
      ...(o.healthcheck ? { Healthcheck: { Test: ["CMD", ...o.healthcheck], Interval: 200_000_000, Timeout: 1_000_000_000, Retries: 1, StartPeriod: 0 } } : {}),
      HostConfig: {
        NetworkMode: net,
        Binds: [...(o.binds ?? [])],
        RestartPolicy: { Name: o.restart ?? "no" },
        PortBindings: Object.fromEntries((o.publish ?? []).map((p) => [`${p}/tcp`, [{ HostIp: "127.0.0.1", HostPort: "" }]]))
      },
      NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: [...(o.aliases ?? [])] } } }
    })
    await c.start()
    return c.id
  }
  const cleanup = async () => {
    const filters = (l: string) => JSON.stringify({ label: [l] })
    // Runs of this session are named `<session id>` or `<session id>-<suffix>`.
    const ours = (labels: Record<string, string> | null | undefined) => labels?.[SESSION_LABEL] === id || (labels?.["faultline.run"] ?? "").startsWith(id)
    const containers = (await docker.listContainers({ all: true, filters: filters("faultline.run") })).filter((c) => ours(c.Labels))
    await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)))
    const nets = await docker.listNetworks({ filters: filters(`${SESSION_LABEL}=${id}`) })
    await Promise.all(nets.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)))
    const vols = await (docker.listVolumes as (o: unknown) => Promise<{ Volumes?: Array<{ Name: string; Labels: Record<string, string> | null }> }>)({
      filters: filters("faultline.run")
    })
    await Promise.all((vols.Volumes ?? []).filter((v) => ours(v.Labels)).map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)))
    for (const img of Object.values(images)) await docker.getImage(img).remove({ force: true }).catch(() => undefined)
  }
  return { id, docker, images, network, labels, start, cleanup }
}

/** What a leak check found: names of containers, networks and volumes, by kind. */
export interface Leftovers {
  readonly containers: ReadonlyArray<string>
  readonly networks: ReadonlyArray<string>
  readonly volumes: ReadonlyArray<string>
}

/**
 * Objects a session (or a run of it, `<id>` or `<id>-<suffix>`) left in the engine: containers
 * (helpers included), networks, and volumes — the driver's marker volumes carry
 * `faultline.run` and `faultline.marker=true` (DockerDriver `Labels`), so they count too.
 * `only` narrows to what the driver creates (helper containers and marker volumes), which
 * must be gone between tests while the session's own containers still run.
 */
export const leftovers = async (docker: Dockerode, id: string, only?: "driver"): Promise<Leftovers> => {
  const ours = (labels: Record<string, string> | null | undefined) =>
    labels?.[SESSION_LABEL] === id || (labels?.["faultline.run"] ?? "") === id || (labels?.["faultline.run"] ?? "").startsWith(`${id}-`)
  const containers = (await docker.listContainers({ all: true }))
    .filter((c) => ours(c.Labels) && (only !== "driver" || c.Labels?.["faultline.helper"] !== undefined))
    .map((c) => c.Names?.[0] ?? c.Id)
  const networks = only === "driver" ? [] : (await docker.listNetworks()).filter((n) => ours(n.Labels)).map((n) => n.Name)
  const vols = await (docker.listVolumes as () => Promise<{ Volumes?: Array<{ Name: string; Labels: Record<string, string> | null }> }>)()
  const volumes = (vols.Volumes ?? [])
    .filter((v) => ours(v.Labels) && (only !== "driver" || v.Labels?.["faultline.marker"] === "true"))
    .map((v) => v.Name)
  return { containers, networks, volumes }
}

/** The host port a container port is published on (127.0.0.1). */
export const hostPort = async (docker: Dockerode, container: string, port: number): Promise<number> => {
  const info = await docker.getContainer(container).inspect()
  const b = info.NetworkSettings.Ports?.[`${port}/tcp`]?.[0]
  if (!b) throw new Error(`${container}: port ${port} is not published`)
  if (b.HostIp !== "127.0.0.1") throw new Error(`${container}: port ${port} is published on ${b.HostIp}, not 127.0.0.1`)
  return Number(b.HostPort)
}
