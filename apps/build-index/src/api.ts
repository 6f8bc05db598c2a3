/**
 * The build-index's HTTP API as its reference document shows it
 * (docs/api/build-index.openapi.json, written by `npm run docs:api` from dist/api.js): the
 * routes every component serves and the build-index's /v1/ routes, from the contracts of
 * the libs that serve them.
 */
import { buildIndexRouteContracts } from '@kraken/build-index';
import { serviceRouteContracts, type ApiReference } from '@kraken/service-kit';

export const apiReference: ApiReference = {
  title: 'Kraken build-index internal API',
  description:
    'Tags, manifest records and referrers of repositories, with writes checked against the origins; the replica routes among the nodes of one cluster (`/v1/replica/`) and replication between clusters (`/v1/replication/`). Internal: proxies, agents, the operator and other build-index nodes call it; errors are `{error: {code, message, detail?}}`.',
  routes: [...serviceRouteContracts, ...buildIndexRouteContracts],
};
