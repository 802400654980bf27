'use strict';
// WebCrypto as a gateway client: a fresh P-256 key signs each message with ECDSA/SHA-256,
// producing raw r||s the way browsers and Deno do.
// stdin  {"messages": [b64url]}
// stdout {"jwk": {...}, "spki": b64url DER, "raw": b64url 65-byte point, "signatures": [b64url]}
const { webcrypto } = require('crypto');
const { run, b64url, unb64url } = require('./_io');

const { subtle } = webcrypto;

run(async ({ messages }) => {
  const { publicKey, privateKey } = await subtle.generateKey(
    { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'],
  );
  const signatures = [];
  for (const message of messages) {
    const signature = await subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' }, privateKey, unb64url(message),
    );
    signatures.push(b64url(signature));
  }
  const jwk = await subtle.exportKey('jwk', publicKey);
  return {
    jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
    spki: b64url(await subtle.exportKey('spki', publicKey)),
    raw: b64url(await subtle.exportKey('raw', publicKey)),
    signatures,
  };
});
