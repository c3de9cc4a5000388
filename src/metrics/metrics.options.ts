export interface MetricsModuleOptions {
  /** Bearer token for `GET /metrics`; unset, the page is open (as Prometheus scrapers expect). */
  token?: string;
}
