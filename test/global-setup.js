// Runs once in jest's parent process, before the workers start (they inherit
// its environment): the auto backend's per-layer choices go to a directory of
// this test run, not the user's cache, unless the caller chose one.
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async function globalSetup() {
  if (!process.env.NEONN_CACHE_DIR) {
    process.env.NEONN_CACHE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'neonn-test-cache-'));
  }
};
