// WhatsApp Web's service worker, registered before the first QR. It takes control at once
// and has no fetch handler on purpose: a worker that answered the page's requests would
// hide them from the harness's interception (the web-version cache) and its emulation.
"use strict";

self.addEventListener("install", function (event) {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});
