import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Repositories } from '../storage/repositories/index.js';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
}

/** Prometheus metrics: process defaults, HTTP requests, tasks by status, analyses running. */
export function createMetrics(repositories: Pick<Repositories, 'tasks'>, activeAnalyses: () => number): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kirin_' });
  const httpRequests = new Counter({ name: 'kirin_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers: [registry] });
  new Gauge({
    name: 'kirin_tasks',
    help: 'Tasks by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await repositories.tasks.countByStatus();
      this.reset();
      for (const c of counts) this.set({ status: c.status }, c.n);
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
