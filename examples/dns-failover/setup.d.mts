/** Creates the hosted zone, health checks and weighted records the dns-failover runbook drills. */
export declare const setUp: (endpoint?: string) => Promise<{ readonly zoneId: string; readonly healthChecks: { readonly blue: string; readonly green: string } }>
