// The replica's login screen: after `load`, open /ws/chat and show each pushed ref as a QR;
// once the phone has scanned, swap the QR for the chat list.
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
    var socket = new WebSocket("ws://" + location.host + "/ws/chat" + location.search);
    socket.addEventListener("message", function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "ref") {
        showRef(message.ref, message.matrix);
      } else if (message.type === "refs-exhausted") {
        showReloadButton();
      } else if (message.type === "scanned") {
        onScanned();
      }
    });
  }

  // The harness reads chats through the page, as whatsapp-web.js's getChats() does.
  window.WAReplica = {fetchChats: fetchChats};

  // WhatsApp's client boots after the window load event; the benchmark times `qr_wait` from it.
  window.addEventListener("load", connect);
})();
