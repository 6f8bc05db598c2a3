/**
 * Contracts of the routes every component serves (http-server.ts): `/health` and
 * `/readiness`. `/metrics` is Prometheus text for scrapers and stays out of the API
 * documents.
 */
import { z } from 'zod';
import type { RouteContract } from './api/route-contract.js';
import { readinessReportSchema } from './readiness.js';

export const healthSchema = z.object({ status: z.literal('ok') }).strict();

export const serviceRouteContracts: readonly RouteContract[] = [
  {
    method: 'GET',
    path: '/health',
    summary: 'Liveness: the process serves HTTP.',
    responses: { 200: { description: 'Alive.', body: healthSchema } },
  },
  {
    method: 'GET',
    path: '/readiness',
    summary: "Readiness: every check of the component's dependencies passes.",
    responses: {
      200: { description: 'Ready.', body: readinessReportSchema },
      503: { description: 'Not ready; the failed checks say why.', body: readinessReportSchema },
    },
  },
];
