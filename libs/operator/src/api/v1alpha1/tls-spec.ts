/**
 * `spec.tls`: TLS on every link between components and mutual TLS on P2P, from Secrets
 * of type kubernetes.io/tls as cert-manager writes them (`tls.crt`, `tls.key`,
 * `ca.crt`). One shared Secret, or one per component, or a mix (a component's own
 * Secret wins). Each Secret serves its component as server certificate, as client
 * certificate and, for origins and agents, as P2P certificate, so its Certificate needs
 * the usages `server auth` and `client auth` and must name:
 *
 * - the component's identity, as common name or DNS name: `origin`, `tracker`,
 *   `build-index`, `proxy` or `agent`; origins and build-indexes take writes only from
 *   the identities allowed to write (proxy, origin, build-index, tracker; operator for
 *   replication rules), so a shared Secret names all of them;
 * - the DNS names clients dial: `*.<cluster>-<component>-headless.<namespace>.svc` for
 *   ring members and `<cluster>-<component>.<namespace>.svc` for the Services
 *   (`certificateRequirements()` lists them per component).
 *
 * Servers ask for client certificates without requiring them (`clientAuth: optional`),
 * so that the kubelet's HTTPS probes, which present none, still pass.
 */
import { z } from 'zod';
import { secretKeyRefSchema } from './core-types.js';
import { secretNameSchema } from './component-specs.js';

const componentSecret = (component: string) =>
  secretNameSchema
    .optional()
    .describe(`kubernetes.io/tls Secret of the ${component}; \`secretName\` when unset.`);

export const tlsSpecSchema = z
  .object({
    secretName: secretNameSchema
      .optional()
      .describe(
        'kubernetes.io/tls Secret (`tls.crt`, `tls.key`, `ca.crt`) of every component without its own.',
      ),
    origins: componentSecret('origins'),
    trackers: componentSecret('trackers'),
    buildIndex: componentSecret('build-index'),
    proxy: componentSecret('proxy'),
    agents: componentSecret('agents'),
    trustBundle: secretKeyRefSchema('ca.crt')
      .optional()
      .describe(
        "Secret key holding the PEM CAs every component trusts, instead of each Secret's `ca.crt`: add the CA of each remote cluster that ReplicationRules replicate to or from.",
      ),
  })
  .strict()
  .describe(
    'TLS between components and mutual TLS between peers, from cert-manager compatible Secrets; plain HTTP when unset.',
  );
