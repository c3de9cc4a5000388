import { lstatSync, readlinkSync, watch } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/** How long after a change the file is reread: an editor's save is a burst of events. */
const SETTLE_MS = 50;
const MAX_LINKS = 40;

export interface RulesFileWatcher {
  close(): void;
}

/**
 * Calls `changed` soon after the rules file may have changed. Editors save by rename and
 * Kubernetes swaps a ConfigMap's `..data` link, so the directory is watched, not the file;
 * events about other entries of the directory (a log file, the store) are ignored. A burst of
 * events gives one call at most `SETTLE_MS` after its first event: a busy neighbour cannot
 * postpone the reload forever, as a debounce that restarts on every event would.
 */
export function watchRulesFile(file: string, changed: () => void): RulesFileWatcher {
  const directory = dirname(file);
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(directory, (_event, name) => {
    if (name !== null && !entriesOnPath(file).has(name.toString())) return;
    timer ??= setTimeout(() => {
      timer = undefined;
      changed();
    }, SETTLE_MS);
  });
  watcher.unref();
  return {
    close() {
      watcher.close();
      clearTimeout(timer);
    },
  };
}

/**
 * The entries of the file's directory that reading the file goes through: its own name, and
 * for a symbolic link the first step of each target inside the directory (`..data` for a
 * ConfigMap's `rules.yaml -> ..data/rules.yaml`). Read anew on each event: links change.
 */
function entriesOnPath(file: string): Set<string> {
  const directory = dirname(file);
  const names = new Set([basename(file)]);
  let current = file;
  for (let hop = 0; hop < MAX_LINKS; hop++) {
    let target: string;
    try {
      if (!lstatSync(current).isSymbolicLink()) break;
      target = resolve(dirname(current), readlinkSync(current));
    } catch {
      break; // gone or unreadable: the reload reports it
    }
    const inside = relative(directory, target);
    if (inside && !inside.startsWith('..' + sep) && inside !== '..' && !isAbsolute(inside))
      names.add(inside.split(sep)[0]);
    current = target;
  }
  return names;
}
