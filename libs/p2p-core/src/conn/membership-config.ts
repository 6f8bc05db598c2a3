/**
 * How peers prove that they belong to the cluster, as the `p2p` block configures it:
 * mutual TLS with the cluster CA (`tls`), otherwise the cluster token challenge
 * (`clusterTokenFile`), otherwise nothing but the cluster id (the devcluster's plain
 * mode). Both are files, as a Kubernetes Secret mounts them, read again when they change.
 */
import { z } from 'zod';

export const peerTlsSchema = z
  .object({
    certFile: z
      .string()
      .min(1)
      .describe(
        'PEM certificate chain this peer presents to every peer, leaf first, issued by the cluster CA; it serves as client and as server certificate.',
      ),
    keyFile: z.string().min(1).describe('PEM private key of `certFile`, unencrypted.'),
    caFile: z
      .string()
      .min(1)
      .describe(
        "PEM bundle of the cluster CA: a peer whose certificate does not chain to it is refused, whichever side dialed. Peers are dialed at the addresses the tracker hands out, so certificates are not checked against host names: the CA's signature is the proof of membership.",
      ),
  })
  .strict()
  .describe(
    'Mutual TLS (1.3) on every P2P connection, with the cluster CA; off when absent. The files are read again when they change, and new connections use them.',
  );

export const membershipShape = {
  tls: peerTlsSchema.optional(),
  clusterTokenFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'File holding the cluster token (a mounted Secret; at least 16 bytes, surrounding whitespace ignored). When `tls` is off, every connection starts with a challenge in which both peers prove that they hold the token, which never crosses the wire, and a peer that cannot is refused before any blob is named. Every peer of the cluster needs the same token. Ignored when `tls` is set; off when absent. Read again when it changes.',
    ),
};

export type PeerTlsConfig = z.output<typeof peerTlsSchema>;

export interface MembershipConfig {
  readonly tls?: PeerTlsConfig | undefined;
  readonly clusterTokenFile?: string | undefined;
}
