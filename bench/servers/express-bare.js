// (b) The ceiling: a bare Express app that reads the body and answers 200.
const express = require('express');
const { announce } = require('./listen');

const app = express();
app.post('/webhooks/openai', express.raw({ type: () => true, limit: '1mb' }), (_req, res) => {
  res.status(200).json({ received: true });
});
const server = app.listen(0, '127.0.0.1', () => announce(server));
