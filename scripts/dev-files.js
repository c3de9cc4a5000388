// What `npm start` keeps in DATA_DIR in development (a signing secret and an admin token), read
// by `npm run demo` and `npm run tail` when the environment does not name them.
const { readFileSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');

const DEV_SECRET_FILE = 'dev-webhook-secret';
const DEV_ADMIN_TOKEN_FILE = 'dev-admin-token';

function dataDir() {
  return resolve(process.env.DATA_DIR || './data');
}

/** `./data/dev-admin-token`, as a user would type it from here. */
function shownPath(name) {
  const path = relative(process.cwd(), join(dataDir(), name));
  return path.startsWith('..') ? join(dataDir(), name) : `./${path}`;
}

/** The trimmed content of a development file, or undefined when there is none yet. */
function readDevFile(name) {
  try {
    return readFileSync(join(dataDir(), name), 'utf8').trim() || undefined;
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

module.exports = { DEV_SECRET_FILE, DEV_ADMIN_TOKEN_FILE, dataDir, readDevFile, shownPath };
