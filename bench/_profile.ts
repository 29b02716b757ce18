import { Effect } from "effect"
import * as Overhead from "./overhead.ts"
await Effect.runPromise(Overhead.run({ windowMs: 6000, url: null, log: console.log }))
