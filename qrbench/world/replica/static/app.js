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

  function decodeB64(text) {
    return Uint8Array.from(atob(text), function (c) { return c.charCodeAt(0); });
  }

  function encodeB64(bytes) {
    return btoa(String.fromCharCode.apply(null, bytes));
  }

  // The socket's state goes OPENING -> UNPAIRED with the first ref, UNPAIRED_IDLE when the
  // refs run out; Conn.ref follows every pushed ref. The device's keys arrive with the refs.
  var socketModel = Model({state: "OPENING", hasSynced: false});
  var conn = Model({ref: null});
  var cmd = Model({});
  var device = {staticKey: null, identityKey: null, advSecret: null};
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
    device.staticKey = decodeB64(message.keys.static);
    device.identityKey = decodeB64(message.keys.identity);
    device.advSecret = message.keys.adv;
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

  // WhatsApp's client boots after the window load event; the benchmark times `qr_wait` from it.
  window.addEventListener("load", connect);
})();
