/**
 * Which boot of the machine this process runs in. Pieces are written without syncing
 * them (the page cache keeps them across a crash of the process, not of the machine),
 * so a bitfield is trusted as it stands only within the boot that wrote it; after a
 * reboot the pieces it claims are hashed again before they count.
 */
import { readFile } from 'node:fs/promises';

const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

let cached: Promise<string | undefined> | undefined;

/**
 * The kernel's boot id (a UUID, without dashes), or undefined where there is none to
 * read: callers then treat every resume as one after a reboot.
 */
export function currentBootId(): Promise<string | undefined> {
  cached ??= readFile(BOOT_ID_PATH, 'latin1').then(
    (text) => normalizeBootId(text),
    () => undefined,
  );
  return cached;
}

/** 32 lowercase hex digits, or undefined for anything else. */
export function normalizeBootId(text: string): string | undefined {
  const hex = text.trim().replaceAll('-', '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) ? hex : undefined;
}
