import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../storage/database.js';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
}

/** Prometheus metrics: process defaults, HTTP requests, tasks by status, analyses running. */
export function createMetrics(db: Db, activeAnalyses: () => number): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kirin_' });
  const httpRequests = new Counter({ name: 'kirin_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers: [registry] });
  new Gauge({
    name: 'kirin_tasks',
    help: 'Tasks by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows = await db.selectFrom('tasks').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
      this.reset();
      for (const r of rows) this.set({ status: r.status }, Number(r.n));
    },
  });
  new Gauge({
    name: 'kirin_analyses_running',
    help: 'Analyses running now',
    registers: [registry],
    collect() {
      this.set(activeAnalyses());
    },
  });
  return { registry, httpRequests };
}
