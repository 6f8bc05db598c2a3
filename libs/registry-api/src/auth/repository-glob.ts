/**
 * Repository patterns of the auth rules: anchored globs over repository names. `*`
 * matches within one path component (`team/*` is `team/app`, not `team/app/web`), `**`
 * matches across components (`team/**` is everything under `team/`, `**` every
 * repository); every other character stands for itself. Globs rather than regexes: the
 * names' grammar has no character that needs escaping, and a glob cannot be written
 * unanchored by mistake.
 */
import { z } from 'zod';

/** The repository name alphabet, plus `*`. */
const GLOB_CHARS = /^[a-z0-9._/*-]+$/;

export const repositoryGlobSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((glob) => GLOB_CHARS.test(glob), 'only lowercase repository name characters, "/" and "*"')
  .refine((glob) => !glob.includes('***'), 'use "*" or "**", not more stars')
  .describe('Repository glob: `*` within one path component, `**` across components.');

/** Every repository: who may pull this may list the catalog. */
export const EVERY_REPOSITORY = '**';

export function compileRepositoryGlob(glob: string): RegExp {
  const source = glob
    .split(/(\*\*|\*)/)
    .map((part) => {
      if (part === '**') return '.*';
      if (part === '*') return '[^/]*';
      return part.replace(/[.]/g, '\\.');
    })
    .join('');
  return new RegExp(`^${source}$`);
}
