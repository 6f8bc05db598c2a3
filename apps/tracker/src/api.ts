/**
 * The tracker's HTTP API as its reference document shows it (docs/api/tracker.openapi.json,
 * written by `npm run docs:api` from dist/api.js): the routes every component serves and
 * the tracker's /v1/ routes, from the contracts of the libs that serve them.
 */
import { serviceRouteContracts, type ApiReference } from '@kraken/service-kit';
import { trackerRouteContracts } from '@kraken/tracker';

export const apiReference: ApiReference = {
  title: 'Kraken tracker internal API',
  description:
    'Swarm bookkeeping for peer-to-peer blob distribution: peers announce the blobs they fetch or seed and are handed other peers of the swarm, and fetch blob metainfo. Internal: agents and origins call it; errors are `{error: {code, message, detail?}}`.',
  routes: [...serviceRouteContracts, ...trackerRouteContracts],
};
