import { describe, expect, it } from 'vitest';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { krakenCluster } from '../testing/kraken-cluster-fixtures.js';
import { findObject as get } from '../testing/rendered-objects.js';
import { renderCluster } from './cluster-render.js';

describe('the proxy', () => {
  it('is a Deployment behind a Service of the spec’s type and port', () => {
    const { objects } = renderCluster(
      krakenCluster({ proxy: { replicas: 3, service: { type: 'NodePort', port: 5000, nodePort: 30500 } } }),
    );
    const deployment = get<V1Deployment>(objects, 'Deployment', 'kraken-proxy');
    expect(deployment.spec?.replicas).toBe(3);
    expect(deployment.spec?.template.spec?.containers[0]?.args).toEqual([
      'proxy',
      '--config',
      '/etc/kraken/proxy.yaml',
    ]);
    expect(get<V1Service>(objects, 'Service', 'kraken-proxy').spec).toMatchObject({
      type: 'NodePort',
      ports: [{ name: 'http', port: 5000, targetPort: 'http', protocol: 'TCP', nodePort: 30500 }],
    });
  });
});
