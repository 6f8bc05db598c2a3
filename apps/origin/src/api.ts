/**
 * The origin's HTTP API as its reference document shows it (docs/api/origin.openapi.json,
 * written by `npm run docs:api` from dist/api.js): the routes every component serves and
 * the origin's /v1/ routes, from the contracts of the libs that serve them.
 */
import { originRouteContracts } from '@kraken/origin';
import { serviceRouteContracts, type ApiReference } from '@kraken/service-kit';

export const apiReference: ApiReference = {
  title: 'Kraken origin internal API',
  description:
    'Content-addressed blobs on an origin: reads (whole or ranged, or through an upstream registry), verified writes in one body or in chunked upload sessions, piece metainfo, and seeding on request. Internal: proxies, agents, trackers, build-index nodes and other origins call it; errors are `{error: {code, message, detail?}}`.',
  routes: [...serviceRouteContracts, ...originRouteContracts],
};
