'use strict';
// Shared by the interop scripts: read one JSON document on stdin, write one on stdout.

function run(handler) {
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk));
  process.stdin.on('end', async () => {
    try {
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      process.stdout.write(JSON.stringify(await handler(request)));
    } catch (error) {
      process.stderr.write(`${error.stack || error}\n`);
      process.exitCode = 1;
    }
  });
}

const b64url = (buffer) => Buffer.from(buffer).toString('base64url');
const unb64url = (text) => Buffer.from(text, 'base64url');

module.exports = { run, b64url, unb64url };
