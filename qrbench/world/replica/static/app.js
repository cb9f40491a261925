// The replica's login screen: after `load`, open /ws/chat and show each pushed ref as a QR;
// once the phone has scanned, swap the QR for the chat list. The same refs drive the
// modules whatsapp-web.js reads through `window.require` before login (see `defineModules`).
(function () {
  "use strict";

  var CANVAS_PX = 264;
  var QUIET_ZONE_MODULES = 4;
  var QR_LABEL = "Scan this QR code to link a device!";
  // About what fits on screen: WhatsApp renders only the visible rows of its chat list.
  var CHAT_LIST_ROWS = 20;

  var app = document.getElementById("app");
  var startup = document.getElementById("startup");
  var linkDevice = document.getElementById("link-device");
  var slot = document.getElementById("qr-slot");
  var qrContainer = null;

  function drawModules(canvas, rows) {
    var context = canvas.getContext("2d");
    // Whole-pixel cells keep module edges sharp, so a screenshot decodes reliably.
    var cellPx = Math.floor(CANVAS_PX / (rows.length + 2 * QUIET_ZONE_MODULES));
    var offsetPx = Math.floor((CANVAS_PX - rows.length * cellPx) / 2);
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, CANVAS_PX, CANVAS_PX);
    context.fillStyle = "#000000";
    for (var y = 0; y < rows.length; y++) {
      for (var x = 0; x < rows[y].length; x++) {
        if (rows[y].charAt(x) === "1") {
          context.fillRect(offsetPx + x * cellPx, offsetPx + y * cellPx, cellPx, cellPx);
        }
      }
    }
  }

  function createQrContainer() {
    var container = document.createElement("div");
    var canvas = document.createElement("canvas");
    canvas.setAttribute("aria-label", QR_LABEL);
    canvas.setAttribute("role", "img");
    canvas.width = CANVAS_PX;
    canvas.height = CANVAS_PX;
    container.appendChild(canvas);
    return container;
  }

  // A Backbone-like model: `set` fires `change:<field>` with (model, value), as WhatsApp
  // Web's models do for the listeners whatsapp-web.js attaches.
  function Model(fields) {
    var listeners = Object.create(null);
    var model = Object.assign({}, fields);
    model.on = function (event, listener) {
      (listeners[event] = listeners[event] || []).push(listener);
    };
    model.off = function (event, listener) {
      listeners[event] = (listeners[event] || []).filter(function (known) {
        return known !== listener;
      });
    };
    model.set = function (field, value) {
      model[field] = value;
      (listeners["change:" + field] || []).slice().forEach(function (listener) {
        listener(model, value);
      });
    };
    return model;
  }

  function encodeB64(bytes) {
    return btoa(String.fromCharCode.apply(null, bytes));
  }

  // The socket's state goes OPENING -> UNPAIRED with the first ref, UNPAIRED_IDLE when the
  // refs run out; Conn.ref follows every pushed ref. The device's keys arrive with the refs.
  var socketModel = Model({state: "OPENING", hasSynced: false});
  var conn = Model({ref: null});
  var cmd = Model({});
  // The page's own keys (see bootWork), public halves as whatsapp-web.js reads them.
  var device = {staticKey: null, identityKey: null, advSecret: null};
  var hello = null;
  // A constant of WhatsApp Web's, read (and copied) before any ref arrives; the replica's
  // server composes the same string (server.DEVICE_PLATFORM).
  var DEVICE_PLATFORM = "WEB";

  function defineModules() {
    var modules = {
      WAWebSocketModel: {Socket: socketModel},
      WAWebConnModel: {Conn: conn},
      WAWebCmd: {Cmd: cmd},
      WAWebOfflineHandler: {
        OfflineMessageHandler: {getOfflineDeliveryProgress: function () { return 0; }}
      },
      WAWebAltDeviceLinkingApi: {},
      WABase64: {encodeB64: encodeB64},
      WAWebCompanionRegClientUtils: {
        DEVICE_PLATFORM: DEVICE_PLATFORM,
        waNoiseInfo: {
          get: function () {
            return Promise.resolve({staticKeyPair: {pubKey: device.staticKey}});
          }
        }
      },
      WAWebAdvSignatureApi: {},
      WAWebUserPrefsInfoStore: {},
      WAWebSignalStoreApi: {
        waSignalStore: {
          getRegistrationInfo: function () {
            return Promise.resolve({identityKeyPair: {pubKey: device.identityKey}});
          }
        }
      },
      WAWebUserPrefsMultiDevice: {getADVSecretKey: function () { return device.advSecret; }},
      WAWebMiscBrowserUtils: {info: function () { return {name: "Chrome", os: "Linux"}; }}
    };
    Object.keys(modules).forEach(function (name) {
      window.__d(name, [], function (_global, _require, module) {
        module.exports = modules[name];
      });
    });
    cmd.refreshQR = function () { connect(); };
  }

  function onRef(message) {
    showRef(message.qr, message.matrix);
    conn.set("ref", message.ref);
    if (socketModel.state !== "UNPAIRED") {
      socketModel.set("state", "UNPAIRED");
    }
  }

  function onRefsExhausted() {
    showReloadButton();
    socketModel.set("state", "UNPAIRED_IDLE");
  }

  function showRef(ref, rows) {
    if (qrContainer === null) {
      qrContainer = createQrContainer();
    }
    // The ref and the drawing are complete before the container enters the DOM, so whoever
    // observes `div[data-ref]` appearing sees a canvas that already holds the QR.
    qrContainer.setAttribute("data-ref", ref);
    drawModules(qrContainer.firstChild, rows);
    if (!qrContainer.isConnected) {
      slot.replaceChildren(qrContainer);
    }
    startup.hidden = true;
    linkDevice.hidden = false;
  }

  function showReloadButton() {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Click to reload QR code";
    button.addEventListener("click", connect);
    qrContainer = null;
    slot.replaceChildren(button);
  }

  function fetchChats(offset, limit) {
    var query = "?offset=" + encodeURIComponent(offset) + "&limit=" + encodeURIComponent(limit);
    return fetch("/api/chats" + query, {cache: "no-store"}).then(function (response) {
      if (!response.ok) {
        throw new Error("GET /api/chats" + query + " failed: HTTP " + response.status);
      }
      return response.json();
    }).then(function (page) {
      return page.chats;
    });
  }

  function chatRow(chat) {
    var row = document.createElement("div");
    row.setAttribute("role", "listitem");
    row.setAttribute("data-id", chat.id);
    var name = document.createElement("span");
    name.className = "chat-name";
    name.title = chat.name;
    name.textContent = chat.name;
    var lastMessage = document.createElement("div");
    lastMessage.className = "chat-last";
    lastMessage.textContent = chat.last_message;
    row.append(name, lastMessage);
    if (chat.unread > 0) {
      var unread = document.createElement("span");
      unread.className = "chat-unread";
      unread.setAttribute("aria-label", chat.unread + " unread messages");
      unread.textContent = String(chat.unread);
      row.append(unread);
    }
    return row;
  }

  function showChatList(chats) {
    var pane = document.createElement("div");
    pane.id = "pane-side";
    pane.setAttribute("role", "list");
    pane.setAttribute("aria-label", "Chat list");
    chats.forEach(function (chat) {
      pane.appendChild(chatRow(chat));
    });
    // Like the QR, the list enters the DOM complete: `#pane-side` appearing means ready.
    app.append(pane);
  }

  function onScanned() {
    qrContainer = null;
    slot.replaceChildren();
    linkDevice.hidden = true;
    fetchChats(0, CHAT_LIST_ROWS).then(showChatList);
  }

  function connect() {
    // The page's query names its session (qrbench_session): the socket says it too.
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/chat" + location.search);
    // The noise handshake's part: the server learns the static key from the client. The
    // page's work rides along, for the harness to place on the session's clock.
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify(hello));
      hello.work = [];
    });
    socket.addEventListener("message", function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "ref") {
        onRef(message);
      } else if (message.type === "refs-exhausted") {
        onRefsExhausted();
      } else if (message.type === "scanned") {
        onScanned();
      }
    });
  }

  // The harness reads chats through the page, as whatsapp-web.js's getChats() does.
  window.WAReplica = {fetchChats: fetchChats};
  defineModules();

  // What WhatsApp Web does before it can open its socket and show a QR, each piece as a
  // span: make its keys in a worker, keep them in its IndexedDB databases, register its
  // service worker, fetch its assets from the static host into Cache Storage. The server
  // sizes it (PAGE_WORK, from the scenario's replica.page); docs/replica.md.
  var PAGE_WORK = /*PAGE_WORK*/null;
  // This script comes from the static host, under its stable name or its address.
  var STATIC_ORIGIN = new URL(document.currentScript.src).origin;

  function epochMs() {
    return performance.timeOrigin + performance.now();
  }

  function spanId() {
    return Array.from(crypto.getRandomValues(new Uint8Array(8)), function (byte) {
      return (byte + 256).toString(16).slice(1);
    }).join("");
  }

  // `work(id)` as a span under `parent`; a failure is recorded (ok: false) and becomes
  // `fallback`, so one broken piece does not keep the QR from showing.
  function span(spans, name, parent, work, fallback) {
    var id = spanId();
    var start = epochMs();
    function end(ok) {
      spans.push({name: name, id: id, parent: parent, start: start, end: epochMs(), ok: ok});
    }
    return Promise.resolve().then(function () { return work(id); }).then(function (value) {
      end(true);
      return value;
    }, function (error) {
      end(false);
      if (fallback === undefined) {
        throw error;
      }
      console.warn(name + " failed: " + error);
      return fallback;
    });
  }

  function requested(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function openDatabase(spans, parent, name, stores) {
    return span(spans, "indexedDB.open " + name, parent, function () {
      var request = indexedDB.open(name, 1);
      request.onupgradeneeded = function () {
        stores.forEach(function (store) {
          request.result.createObjectStore(store);
        });
      };
      return requested(request);
    }, null);
  }

  function putAll(spans, parent, name, database, records) {
    var stores = Object.keys(records);
    return span(spans, "IDBObjectStore.put " + name, parent, function () {
      if (database === null) {
        throw new Error("IndexedDB " + name + " did not open");
      }
      var transaction = database.transaction(stores, "readwrite");
      stores.forEach(function (store) {
        Object.keys(records[store]).forEach(function (key) {
          transaction.objectStore(store).put(records[store][key], key);
        });
      });
      return new Promise(function (resolve, reject) {
        transaction.oncomplete = resolve;
        transaction.onerror = function () { reject(transaction.error); };
      });
    }, null);
  }

  function makeKeys(spans, parent) {
    return span(spans, "new Worker crypto-worker.js", parent, function (id) {
      var worker = new Worker(PAGE_WORK.cryptoWorker);
      return new Promise(function (resolve, reject) {
        worker.addEventListener("message", function (event) {
          worker.terminate();
          if (event.data.error) {
            reject(new Error(event.data.error));
            return;
          }
          event.data.spans.forEach(function (made) {
            spans.push({
              name: made.name, id: spanId(), parent: id, start: made.start, end: made.end,
              ok: made.ok
            });
          });
          resolve(event.data.keys);
        });
        worker.addEventListener("error", function (event) {
          reject(new Error("crypto worker: " + event.message));
        });
        worker.postMessage("keys");
      });
    });
  }

  function storeKeys(spans, parent, keys, databases) {
    var signal = PAGE_WORK.signalStores;
    var records = {};
    records[signal.identity] = {identityKeyPair: keys.identity};
    records[signal.signedPreKey] = {1: keys.signedPreKey};
    records[signal.meta] = {registrationId: keys.registrationId, noiseKeyPair: keys.noise};
    var user = {};
    user[PAGE_WORK.userStore] = {advSecretKey: encodeB64(keys.advSecret)};
    var signalName = PAGE_WORK.signalDatabase;
    var userName = PAGE_WORK.userDatabase;
    return Promise.all([
      putAll(spans, parent, signalName, databases[signalName], records),
      putAll(spans, parent, userName, databases[userName], user)
    ]);
  }

  function registerServiceWorker(spans, parent) {
    return span(spans, "navigator.serviceWorker.register", parent, function () {
      return navigator.serviceWorker.register(PAGE_WORK.serviceWorker).then(function () {
        return navigator.serviceWorker.ready;
      });
    }, null);
  }

  function cacheAssets(spans, parent) {
    var urls = PAGE_WORK.assets.map(function (path) { return STATIC_ORIGIN + path; });
    return span(spans, "fetch assets", parent, function () {
      // no-cors, as an <img> or <link> would fetch them: no preflight for the header the
      // harness adds to every request. Their responses are opaque, and Cache Storage
      // keeps them all the same.
      return Promise.all(urls.map(function (url) {
        return fetch(url, {mode: "no-cors"});
      }));
    }, []).then(function (responses) {
      return span(spans, "Cache.put " + PAGE_WORK.cacheName, parent, function () {
        return caches.open(PAGE_WORK.cacheName).then(function (cache) {
          return Promise.all(responses.map(function (response, index) {
            return cache.put(urls[index], response);
          }));
        });
      }, null);
    });
  }

  function bootWork() {
    var spans = [];
    return span(spans, "page boot", null, function (id) {
      var names = Object.keys(PAGE_WORK.databases);
      var opened = Promise.all(names.map(function (name) {
        return openDatabase(spans, id, name, PAGE_WORK.databases[name]);
      })).then(function (handles) {
        var databases = {};
        names.forEach(function (name, index) { databases[name] = handles[index]; });
        return databases;
      });
      var keysKept = Promise.all([makeKeys(spans, id), opened]).then(function (both) {
        return storeKeys(spans, id, both[0], both[1]).then(function () { return both[0]; });
      });
      return Promise.all([keysKept, registerServiceWorker(spans, id), cacheAssets(spans, id)]);
    }).then(function (done) {
      var keys = done[0];
      device.staticKey = keys.noise.publicKey;
      device.identityKey = keys.identity.publicKey;
      device.advSecret = encodeB64(keys.advSecret);
      hello = {
        type: "hello",
        keys: {
          static: encodeB64(device.staticKey),
          identity: encodeB64(device.identityKey),
          adv: device.advSecret
        },
        work: spans
      };
    });
  }

  // WhatsApp's client boots after the window load event; the benchmark times `qr_wait` from
  // it, so the page's work counts in that stage.
  window.addEventListener("load", function () {
    bootWork().then(connect, function (error) {
      console.error("WhatsApp Web could not boot: " + error);
    });
  });
})();
