// The linking device's keys, made off the main thread as WhatsApp Web makes its own: a
// noise key pair (the socket's static key), an identity key pair, a signed pre-key and its
// signature, an ADV secret and a registration id. WebCrypto stands in for libsignal's
// Curve25519: X25519 for the Diffie-Hellman keys, Ed25519 for the key that signs.
"use strict";

// The signed pre-key is signed over its public key prefixed with the Curve25519 type byte,
// as libsignal does.
var KEY_TYPE_DJB = 5;

function epochMs() {
  return performance.timeOrigin + performance.now();
}

function timed(spans, name, work) {
  var start = epochMs();
  return work().then(function (value) {
    spans.push({name: name, start: start, end: epochMs(), ok: true});
    return value;
  });
}

function generate(spans, name, algorithm, usages) {
  return timed(spans, name, function () {
    return crypto.subtle.generateKey({name: algorithm}, true, usages);
  }).then(function (pair) {
    return crypto.subtle.exportKey("raw", pair.publicKey).then(function (raw) {
      return {privateKey: pair.privateKey, publicKey: new Uint8Array(raw)};
    });
  });
}

function makeKeys() {
  var spans = [];
  var derive = ["deriveBits"];
  return Promise.all([
    generate(spans, "crypto.subtle.generateKey noise", "X25519", derive),
    generate(spans, "crypto.subtle.generateKey identity", "Ed25519", ["sign", "verify"]),
    generate(spans, "crypto.subtle.generateKey signedPreKey", "X25519", derive)
  ]).then(function (pairs) {
    var noise = pairs[0];
    var identity = pairs[1];
    var signedPreKey = pairs[2];
    var signed = new Uint8Array(1 + signedPreKey.publicKey.length);
    signed[0] = KEY_TYPE_DJB;
    signed.set(signedPreKey.publicKey, 1);
    return timed(spans, "crypto.subtle.sign signedPreKey", function () {
      return crypto.subtle.sign({name: "Ed25519"}, identity.privateKey, signed);
    }).then(function (signature) {
      var registrationId = new Uint16Array(1);
      crypto.getRandomValues(registrationId);
      return {
        keys: {
          noise: noise,
          identity: identity,
          signedPreKey: {keyPair: signedPreKey, signature: new Uint8Array(signature), keyId: 1},
          advSecret: crypto.getRandomValues(new Uint8Array(32)),
          // libsignal's registration ids are 14 bits.
          registrationId: registrationId[0] & 0x3fff
        },
        spans: spans
      };
    });
  });
}

self.addEventListener("message", function (event) {
  if (event.data !== "keys") {
    return;
  }
  makeKeys().then(function (made) {
    self.postMessage(made);
  }, function (error) {
    self.postMessage({error: String(error)});
  });
});
