// Each benchmark server is its own process, so the load generator never shares its event loop.
function announce(server) {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
}

module.exports = { announce };
