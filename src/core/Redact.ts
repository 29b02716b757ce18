/**
 * Redaction at the file boundary: everything faultline writes (journal, ledger, reports
 * derived from the journal) passes through `redact` first, so a secret a driver, probe or
 * experiment file put in its data never reaches a disk.
 *
 * What is masked, and why each rule exists:
 * - environment values (`env: { NAME: value }`): recorded by name only; a restart that needs
 *   them takes them from the reverting user's own environment, never from a file;
 * - values under secret-looking keys (`password`, `token`, `Authorization`, `x-api-key`...);
 * - URLs: user-info (`user:pass@`) and credential-like query parameters (`api_key`, `token`,
 *   `sig`, `X-Amz-Signature`...);
 * - command-line arguments that carry a credential (`-pSECRET`, `--password=x`,
 *   `--password x`, `SECRET_KEY=x`, `AUTH=Bearer x`);
 * - `Bearer`/`Basic` credentials anywhere in a string.
 *
 * @since 0.1.0
 */

/** What replaces a secret. @since 0.1.0 */
export const MASK = "<redacted>"

/** What replaces an environment value (the name is kept). @since 0.1.0 */
export const ENV_MASK = "<from environment>"

const SECRET_WORD =
  "pass(?:word|wd|phrase)?|pwd|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|credentials?|auth|authorization|cookie|session|sig|signature"

// A key whose value is a secret, whatever the value looks like.
const SECRET_KEY = new RegExp(
  `^(?:${SECRET_WORD}|secret[-_]?key|x-api-key|x-auth-token|proxy-authorization|set-cookie|x-amz-[\\w-]+)$|[-_.](?:${SECRET_WORD})$|[a-z](?:Password|Passwd|Secret|SecretKey|Token|ApiKey|PrivateKey|AccessKey|Credentials?)$`,
  "i"
)

// Query parameters that carry credentials (pre-signed URLs included).
const SECRET_PARAM = new RegExp(`^(?:${SECRET_WORD}|access_token|refresh_token|client_secret|key|x-amz-[\\w-]+|x-goog-[\\w-]+)$`, "i")

// `NAME=value` where NAME looks like a secret (`SECRET_KEY=...`, `AUTH=Bearer ...`, `PGPASSWORD=...`).
const ASSIGN_WORD = "pass|pwd|secret|token|auth|credential|api[-_]?key|private[-_]?key|access[-_]?key"
const SECRET_ASSIGN = new RegExp(
  `\\b((?:[A-Za-z_][\\w.-]*?)?(?:${ASSIGN_WORD})[\\w.-]*|[A-Za-z_][\\w.-]*?[-_.]key|key)=((?:Bearer|Basic|Token)\\s+\\S+|"[^"]*"|'[^']*'|[^\\s&]+)`,
  "gi"
)
const BEARER = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{4,}/gi
const URL_RE = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>]+)/gi
// `--password=x`, `--db-token=x`.
const SECRET_FLAG_EQ = new RegExp(`^(--?[\\w-]*(?:${SECRET_WORD})[\\w-]*=)(.+)$`, "i")
// `--password x`: the next argument is the secret.
const SECRET_FLAG = new RegExp(`^--?[\\w-]*(?:${SECRET_WORD})[\\w-]*$`, "i")

const redactUrl = (scheme: string, rest: string): string => {
  // user-info: everything before the first `@` of the authority.
  const slash = rest.search(/[/?#]/)
  const authority = slash < 0 ? rest : rest.slice(0, slash)
  let tail = slash < 0 ? "" : rest.slice(slash)
  const at = authority.lastIndexOf("@")
  const host = at < 0 ? authority : `${MASK}@${authority.slice(at + 1)}`
  const q = tail.indexOf("?")
  if (q >= 0) {
    const hash = tail.indexOf("#", q)
    const query = tail.slice(q + 1, hash < 0 ? undefined : hash)
    const cleaned = query.split("&").map((kv) => {
      const eq = kv.indexOf("=")
      const k = eq < 0 ? kv : kv.slice(0, eq)
      let name = k
      try {
        name = decodeURIComponent(k)
      } catch {
        // a malformed escape: judge the raw name
      }
      return eq >= 0 && SECRET_PARAM.test(name) ? `${k}=${MASK}` : kv
    }).join("&")
    tail = `${tail.slice(0, q)}?${cleaned}${hash < 0 ? "" : tail.slice(hash)}`
  }
  return `${scheme}${host}${tail}`
}

// In a command line written as one string (a probe's description): `--password x` and
// `-pSECRET`, as `redactArgs` masks them in an argument list.
const SECRET_FLAG_SPACED = new RegExp(`(^|\\s)(--?[\\w-]*(?:${SECRET_WORD})[\\w-]*)\\s+(?!-|<redacted>)(\\S+)`, "gi")
const SHORT_P = /(^|\s)-p(?!\s|<redacted>)\S+/g

/**
 * Masks secrets inside one string: URLs, bearer credentials, `NAME=secret` assignments, and
 * credential flags of a command line (`--password x`, `-pSECRET`).
 *
 * @since 0.1.0
 */
export const redactString = (s: string): string =>
  s
    .replace(URL_RE, (_m, scheme: string, rest: string) => redactUrl(scheme, rest))
    .replace(BEARER, (_m, kind: string) => `${kind} ${MASK}`)
    .replace(SECRET_ASSIGN, (_m, name: string) => `${name}=${MASK}`)
    .replace(SECRET_FLAG_SPACED, (_m, pre: string, flag: string) => `${pre}${flag} ${MASK}`)
    .replace(SHORT_P, (_m, pre: string) => `${pre}-p${MASK}`)

/**
 * Masks credentials in a command line's arguments: `-pSECRET` (the MySQL client's form),
 * `--password=x`, `--password x`, and every string rule of `redactString`.
 *
 * @since 0.1.0
 */
export const redactArgs = (args: ReadonlyArray<unknown>): Array<unknown> => {
  const out: Array<unknown> = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (typeof a !== "string") {
      out.push(redactValue(a))
      continue
    }
    const eq = SECRET_FLAG_EQ.exec(a)
    if (eq) out.push(`${eq[1]}${MASK}`)
    else if (/^-p\S+$/.test(a)) out.push(`-p${MASK}`)
    else if (SECRET_FLAG.test(a) && i + 1 < args.length && typeof args[i + 1] === "string" && !String(args[i + 1]).startsWith("-")) {
      out.push(a, MASK)
      i++
    } else out.push(redactString(a))
  }
  return out
}

const isStringRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v)

const redactValue = (v: unknown, key?: string): unknown => {
  if (key !== undefined && SECRET_KEY.test(key) && v !== null && v !== undefined && typeof v !== "object") return MASK
  if (key !== undefined && /^(env|environment)$/i.test(key) && isStringRecord(v)) {
    // Names only: values come from the environment of whoever reads the record.
    return Object.fromEntries(Object.keys(v).map((k) => [k, ENV_MASK]))
  }
  if (key !== undefined && /^(args|argv|arguments|command|cmd)$/i.test(key) && Array.isArray(v)) return redactArgs(v)
  if (key !== undefined && /^headers$/i.test(key) && isStringRecord(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) ? MASK : redactValue(x, k)]))
  }
  if (typeof v === "string") return redactString(v)
  if (Array.isArray(v)) return v.map((x) => redactValue(x))
  if (isStringRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValue(x, k)]))
  return v
}

/**
 * Masks secrets in any JSON-like value (see the module's rules). Pure; returns a copy.
 *
 * @example
 * ```ts
 * redact({ url: "http://u:pw@db/x?api_key=k", env: { PGPASSWORD: "pw" } })
 * // { url: "http://<redacted>@db/x?api_key=<redacted>", env: { PGPASSWORD: "<from environment>" } }
 * ```
 * @since 0.1.0
 */
export const redact = <A>(value: A): A => redactValue(value) as A

/**
 * The environment a restart from a record gets: the names the record lists, with values
 * from `from` (the reverting user's own environment) — never values from a file. Fails with
 * the names `from` lacks.
 *
 * @since 0.1.0
 */
export const environmentFor = (
  names: Readonly<Record<string, unknown>> | undefined,
  from: Readonly<Record<string, string | undefined>>
): { readonly env: Record<string, string> } | { readonly missing: ReadonlyArray<string> } => {
  const env: Record<string, string> = {}
  const missing: Array<string> = []
  for (const name of Object.keys(names ?? {})) {
    const v = from[name]
    if (v === undefined) missing.push(name)
    else env[name] = v
  }
  return missing.length > 0 ? { missing } : { env }
}

/**
 * Whether a value holds something `redact` masked (a command rebuilt from it would be wrong).
 *
 * @since 0.1.0
 */
export const holdsMask = (v: unknown): boolean => typeof v === "string" ? v.includes(MASK) : Array.isArray(v) ? v.some(holdsMask) : false
