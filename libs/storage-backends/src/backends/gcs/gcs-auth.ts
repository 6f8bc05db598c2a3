/**
 * Credentials of the GCS backend from a service account key file. The file is read
 * and checked here (only service account keys are accepted, never arbitrary
 * credential configs that would make the auth library run commands or call URLs
 * named in the file), then handed to google-auth-library's JWT client.
 * Without a file the client falls back to Application Default Credentials.
 */
import { readFile } from 'node:fs/promises';
import type { JWT } from 'google-auth-library';
import { z } from 'zod';

/** Read and write objects; nothing else on the project. */
export const GCS_SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';

const serviceAccountKeySchema = z.looseObject({
  type: z.literal('service_account'),
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  private_key_id: z.string().min(1).optional(),
  project_id: z.string().min(1).optional(),
});

export interface ServiceAccountAuth {
  readonly client: JWT;
  readonly projectId: string | undefined;
}

/** Throws an Error naming the file and the problem when it is not a usable key. */
export async function serviceAccountAuth(path: string): Promise<ServiceAccountAuth> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`credentials file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const key = serviceAccountKeySchema.safeParse(parsed);
  if (!key.success)
    throw new Error(`credentials file ${path} is not a service account key: ${z.prettifyError(key.error)}`);
  // Loaded here, not at import: only GCS backends with a key file need it.
  const { JWT } = await import('google-auth-library');
  const client = new JWT({
    email: key.data.client_email,
    key: key.data.private_key,
    scopes: [GCS_SCOPE],
    ...(key.data.private_key_id === undefined ? {} : { keyId: key.data.private_key_id }),
  });
  return { client, projectId: key.data.project_id };
}
