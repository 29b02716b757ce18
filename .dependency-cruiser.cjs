/**
 * The direction of dependencies, checked in CI (`npm run check:deps`):
 * cli -> durable -> run / drill / schedule / report -> integrations -> targets / probes / proxy -> core.
 * `core` imports nothing of faultline outside itself and no SDK; a target imports only its
 * own folder (and probes/proxy/core); SDKs are imported only inside their target's folder.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "core-is-the-center",
      comment: "src/core defines the model and the engine: it imports nothing else of faultline",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^src/", pathNot: "^src/core/" }
    },
    {
      name: "core-imports-no-sdk",
      comment: "src/core imports only effect and Node's built-ins",
      severity: "error",
      from: { path: "^src/core/" },
      to: { dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown"], pathNot: "node_modules/effect/" }
    },
    {
      name: "targets-point-inward",
      comment: "a target may use core, probes and proxy; never the layers above it",
      severity: "error",
      from: { path: "^src/targets/" },
      to: { path: "^src/(run|cli|report|demo|testing|integrations\\.ts|ExperimentFile\\.ts|index\\.ts)" }
    },
    {
      name: "a-target-is-one-folder",
      comment: "nothing below integrations.ts names another target",
      severity: "error",
      from: { path: "^src/targets/([^/]+)/" },
      to: { path: "^src/targets/", pathNot: "^src/targets/$1/" }
    },
    {
      name: "probes-and-proxy-point-inward",
      severity: "error",
      from: { path: "^src/(probes|proxy)/" },
      to: { path: "^src/(targets|run|cli|report|demo|testing|integrations\\.ts|ExperimentFile\\.ts|index\\.ts)" }
    },
    {
      name: "integrations-point-inward",
      severity: "error",
      from: { path: "^src/integrations\\.ts$" },
      to: { path: "^src/(run|cli|report|demo|testing|ExperimentFile\\.ts|index\\.ts)" }
    },
    {
      name: "report-is-pure",
      comment: "reports are functions of the journal: core only",
      severity: "error",
      from: { path: "^src/report/" },
      to: { path: "^src/", pathNot: "^src/(core|report)/" }
    },
    {
      name: "only-the-cli-is-the-cli",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/cli/" },
      to: { path: "^src/cli/" }
    },
    {
      name: "sdks-only-in-their-target",
      comment: "heavy optional peers load only through their own target folder",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/targets/(docker|aws|postgres)/" },
      to: { path: "node_modules/(dockerode|@aws-sdk/|pg/|pg-)" }
    },
    {
      name: "durable-is-above-drill-and-schedule",
      comment: "src/durable (drills on Effect's cluster) is used by the CLI only; the layers below it do not know it",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(cli|durable)/" },
      to: { path: "^src/durable/" }
    },
    {
      name: "cluster-and-workflow-only-in-durable",
      comment: "Effect's cluster and workflow engine, and their PostgreSQL client, load only with faultline runner/submit",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/durable/" },
      to: { path: "node_modules/(effect/(dist|src)/(cluster|workflow)/|@effect/platform-node/(dist|src)/NodeCluster)" }
    },
    {
      name: "sql-pg-only-in-durable-and-history",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(durable/|schedule/HistoryPg\\.ts$)" },
      to: { path: "node_modules/@effect/sql-pg/" }
    },
    {
      name: "no-circular",
      comment: "type-only imports and the lazy `import()` of a driver's implementation do not make a cycle at load time",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only", "dynamic-import"] } }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    parser: "swc",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".js", ".json"] },
    exclude: { path: "^node_modules/(?!(effect|@effect|dockerode|@aws-sdk|pg)/)" }
  }
}
