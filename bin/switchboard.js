#!/usr/bin/env node
// The Switchboard service as an installed command (`npx switchboard`): the same entry point
// as `npm start`, configured by the same environment variables.
require('../dist/main.js');
