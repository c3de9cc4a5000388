import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A directory with a fault of its own; `release` undoes it and removes the directory. */
export interface FaultyDir {
  dir: string;
  release(): void;
}

function mount(options: string): FaultyDir | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-fs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], {
    stdio: 'ignore',
  });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    release: () => {
      spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A file system of `sizeKiB` (a tmpfs) that really fills up: SQLite's writes then fail with
 * SQLITE_FULL, as on a full disk. Mounting needs root (or CAP_SYS_ADMIN): undefined without.
 */
export function smallDisk(sizeKiB: number): FaultyDir | undefined {
  return mount(`size=${sizeKiB}k`);
}

/** Fills the file system that holds `dir` with one file, to its last byte; returns the file. */
export function fillUp(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  try {
    for (const chunk of [64 * 1024, 512, 1]) {
      const bytes = Buffer.alloc(chunk);
      for (let written = 0; written < 1024 * 1024 * 1024; written += chunk) {
        try {
          writeSync(fd, bytes);
        } catch {
          break; // ENOSPC: on to smaller chunks, until not even one byte fits
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

/**
 * A directory nobody may write to: a read-only mount for root (whom file modes do not stop),
 * a mode 0555 directory for anyone else. Undefined when neither is possible.
 */
export function readOnlyDir(): FaultyDir | undefined {
  if (process.getuid?.() === 0) return mount('ro,size=64k');
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-ro-'));
  chmodSync(dir, 0o555);
  return {
    dir,
    release: () => {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether this process may mount file systems (the full-disk tests need it); probed once. */
export const canMount: boolean = (() => {
  const probe = smallDisk(64);
  probe?.release();
  return probe !== undefined;
})();

/** Overwrites `pages` pages of 4 KiB in the middle of a file with a byte pattern (damaged pages). */
export function damageMiddlePages(file: string, pages: number): void {
  const start = Math.floor(statSync(file).size / 2 / 4096) * 4096;
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(pages * 4096, 0xa5), 0, pages * 4096, start);
  } finally {
    closeSync(fd);
  }
}
