// What an fsync costs on this machine now: the floor under every durable commit (the service
// fsyncs the SQLite WAL before an event's 2xx and before a call's control request). Writes a
// page and fsyncs it, `count` times, in a file under the system's temporary folder (where the
// benchmark keeps the service's DATA_DIR).
const { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

function probeFsync(count = 200) {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-fsync-probe-'));
  const fd = openSync(join(dir, 'probe'), 'w');
  const page = Buffer.alloc(4096, 1);
  const times = [];
  try {
    for (let i = 0; i < count; i++) {
      writeSync(fd, page);
      const start = performance.now();
      fsyncSync(fd);
      times.push(performance.now() - start);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const pick = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { p50Ms: pick(0.5), p99Ms: pick(0.99), maxMs: times[times.length - 1] };
}

module.exports = { probeFsync };
