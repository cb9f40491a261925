"""Deterministic content for the replica: the index HTML, the JavaScript bundles, the chats.

Everything is generated from a seeded RNG, so one version always yields the same bytes.
"""

import json
import random
import re
from collections.abc import Callable, Sequence
from typing import TypedDict

VERSION_PATTERN = re.compile(r"\d+\.\d+\.\d+")
APP_SCRIPT = "app.js"

# fmt: off
_WORDS = (
    "chat", "message", "contact", "group", "status", "media", "sticker", "call", "archive",
    "pin", "mute", "label", "reaction", "poll", "community", "channel", "newsletter", "profile",
    "privacy", "backup", "device", "link", "session", "socket", "crypto", "prekey", "identity",
    "sync", "history", "notification", "presence", "typing", "receipt", "download", "upload",
    "thumbnail", "voice", "video", "document", "location", "business", "catalog", "order",
    "payment", "broadcast", "starred", "search", "filter", "drawer", "modal", "toast", "theme",
    "locale", "emoji", "keyboard", "composer", "quoted", "forward", "ephemeral", "disappearing",
    "wallpaper", "avatar", "banner", "settings",
)
_FIRST_NAMES = (
    "Budi", "Siti", "Agus", "Dewi", "Rina", "Andi", "Putri", "Eko", "Wahyu", "Fitri", "Joko",
    "Sri", "Hendra", "Yuni", "Rudi", "Ayu", "Bayu", "Indah", "Fajar", "Nur",
)
_LAST_NAMES = (
    "Santoso", "Wijaya", "Saputra", "Lestari", "Hidayat", "Pratama", "Kusuma", "Setiawan",
    "Nugroho", "Rahmawati", "Susanto", "Purnama", "Halim", "Siregar", "Simanjuntak",
)
_GROUP_KINDS = ("Keluarga", "Arisan", "Alumni", "Kantor", "Tim", "Komunitas", "Kelas", "Grup")
# fmt: on
_LONGEST_WORD = max(len(word) for word in _WORDS)
# Startup entries and what they require make about 60 % of the modules run at load; the
# rest are only parsed, as in the real client. Together these set the page's load time.
_STARTUP_SHARE = 0.4
_DEPENDENCY_COUNTS = (0, 0, 1, 2)
_MODULE_SUFFIXES = ("Store", "Action", "Utils", "Model", "Bridge", "Collection", "Job", "Cache")
# Chats: a multiplier coprime with 9 * 10**9 turns each index into its own 10-digit number.
_CHAT_NUMBER_BASE = 10**9
_CHAT_NUMBER_SPAN = 9 * 10**9
_CHAT_NUMBER_FACTOR = 2_654_435_761
_GROUP_SHARE = 0.2
_UNREAD_SHARE = 0.3
_MESSAGE_CHARS = (20, 200)
# Newest first, as the chat list sorts them; fixed so every run serves the same chats.
_NEWEST_CHAT_TIMESTAMP = 1_735_689_600
_CHAT_SPACING_S = 900
_CSS_DECLARATIONS = (
    "position:relative",
    "display:flex",
    "flex-direction:column",
    "align-items:center",
    "justify-content:space-between",
    "overflow:hidden",
    "white-space:nowrap",
    "text-overflow:ellipsis",
    "box-sizing:border-box",
    "min-width:0",
    "flex-grow:1",
    "color:var(--primary)",
    "background-color:var(--panel-background)",
    "font-size:14.2px",
    "line-height:20px",
    "padding-inline-start:12px",
    "margin-block-end:8px",
    "cursor:pointer",
    "border-radius:7.5px",
    "transition:opacity .15s ease-out",
    "z-index:100",
    "opacity:0",
)


def _word(rng: random.Random) -> str:
    return rng.choice(_WORDS)


def _camel(words: Sequence[str]) -> str:
    return "".join(word.capitalize() for word in words)


def _sentence(rng: random.Random, length: int) -> str:
    return " ".join(_word(rng) for _ in range(length)).capitalize()


def _filled(budget: int, make_piece: Callable[[], str]) -> list[str]:
    """Pieces from `make_piece` until their total length reaches `budget` characters."""
    pieces: list[str] = []
    size = 0
    while size < budget:
        piece = make_piece()
        pieces.append(piece)
        size += len(piece) + 1
    return pieces


# The runtime mirrors Meta's module system that WhatsApp Web uses (`__d` defines, the global
# `require` runs a factory once, dependencies first), so bundles are real code paths.
_BOOTSTRAP_JS = """
window.Debug = {VERSION: %(version)s};
(function () {
  "use strict";
  var definitions = Object.create(null);
  var modules = Object.create(null);
  window.__d = function (name, deps, factory) {
    definitions[name] = {deps: deps, factory: factory};
  };
  window.require = function (name) {
    var module = modules[name];
    if (module) {
      return module.exports;
    }
    var definition = definitions[name];
    if (!definition) {
      throw new Error("Module " + name + " is not defined");
    }
    for (var i = 0; i < definition.deps.length; i++) {
      window.require(definition.deps[i]);
    }
    module = modules[name] = {exports: {}};
    definition.factory(window, window.require, module);
    return module.exports;
  };
  window.__waBoot = {
    results: Object.create(null),
    bundleDone: function () {
      document.getElementById("startup-progress").value += 1;
    }
  };
})();
"""

_INDEX_HEAD = """<!DOCTYPE html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<title>WhatsApp</title>
<script>%(bootstrap)s</script>
<style>
body{margin:0;font-family:Segoe UI,Helvetica Neue,Helvetica,Arial,sans-serif;background:#fcf5eb}
#startup{display:flex;flex-direction:column;align-items:center;margin-top:30vh;color:#41525d}
#startup-progress{width:320px;height:3px;accent-color:#25d366}
#link-device{display:flex;flex-direction:column;align-items:center;margin-top:10vh}
#link-device[hidden],#startup[hidden]{display:none}
div[data-ref] canvas{width:264px;height:264px}
#pane-side{max-width:480px;margin:0 auto;background:#fff}
#pane-side [role=listitem]{padding:10px 16px;border-bottom:1px solid #e9edef}
.chat-last{color:#667781;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}
%(css)s
</style>
<script type="application/json" id="wa-i18n">%(i18n)s</script>
</head>
<body>
<div id="app">
<div id="startup"><div class="startup-title">WhatsApp</div>
<progress id="startup-progress" value="0" max="%(bundle_count)d"></progress>
<div class="startup-secure">End-to-end encrypted</div></div>
<div id="link-device" hidden><h1>Use WhatsApp on your computer</h1>
<div id="qr-slot"></div></div>
</div>
%(scripts)s
</body>
</html>
"""


def check_version(version: str) -> None:
    """Raise ValueError unless `version` looks like `2.3000.<n>` (it is embedded in JS)."""
    if not VERSION_PATTERN.fullmatch(version):
        raise ValueError(f"not a WhatsApp Web version: {version!r}")


def script_names(bundles: int) -> list[str]:
    """File names of the scripts the index loads, in order: the bundles, then the app."""
    return [*(f"bundle-{number}.js" for number in range(bundles)), APP_SCRIPT]


def build_index(version: str, index_kb: int, bundles: int, static_base: str) -> bytes:
    """The index HTML of `version`, about `index_kb` KB, loading scripts from `static_base`."""
    check_version(version)
    rng = random.Random(f"index:{version}")
    fields = {
        "bootstrap": _BOOTSTRAP_JS % {"version": json.dumps(version)},
        "bundle_count": bundles,
        "scripts": "\n".join(
            f'<script src="{static_base}/bundles/{name}"></script>'
            for name in script_names(bundles)
        ),
        "css": "",
        "i18n": "{}",
    }
    budget = index_kb * 1024 - len((_INDEX_HEAD % fields).encode())
    # WhatsApp inlines atomic CSS and its i18n strings; together they make up the bulk.
    fields["css"] = "\n".join(_filled(budget * 2 // 5, lambda: _css_rule(rng)))
    strings = _filled(budget - len(fields["css"]), lambda: _i18n_entry(rng))
    fields["i18n"] = "{" + ",".join(strings) + "}"
    return (_INDEX_HEAD % fields).encode()


def _css_rule(rng: random.Random) -> str:
    class_name = "x" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=7))
    return f".{class_name}{{{rng.choice(_CSS_DECLARATIONS)}}}"


def _i18n_entry(rng: random.Random) -> str:
    key = f"{_word(rng)}_{_word(rng)}_{rng.randrange(100000)}"
    return f"{json.dumps(key)}:{json.dumps(_sentence(rng, rng.randint(3, 12)))}"


def build_bundles(version: str, bundle_kb: int, bundles: int) -> list[bytes]:
    """`bundles` scripts totalling about `bundle_kb` KB of modules that run at startup."""
    check_version(version)
    rng = random.Random(f"bundles:{version}")
    defined: list[str] = []
    return [_bundle(rng, bundle_kb * 1024 // bundles, defined) for _ in range(bundles)]


def _bundle(rng: random.Random, target_bytes: int, defined: list[str]) -> bytes:
    """One bundle; `defined` holds every module name defined so far, in order, and grows."""
    taken = set(defined)
    modules: list[str] = []
    entries: list[str] = []
    size = 0
    # Each entry name costs about 40 bytes in the boot tail, so reserve it while filling.
    while size + 40 * len(entries) < target_bytes:
        name = _module_name(rng, taken)
        # Modules mostly depend on their neighbours, which keeps sampling cheap.
        neighbours = defined[-200:]
        deps = rng.sample(neighbours, k=min(len(neighbours), rng.choice(_DEPENDENCY_COUNTS)))
        module = _module(rng, name, deps)
        defined.append(name)
        taken.add(name)
        modules.append(module)
        size += len(module) + 1
        if rng.random() < _STARTUP_SHARE:
            entries.append(name)
    tail = f"""
(function () {{
  "use strict";
  var boot = window.__waBoot;
  var entries = {json.dumps(entries)};
  for (var i = 0; i < entries.length; i++) {{
    boot.results[entries[i]] = window.require(entries[i]).checksum;
  }}
  boot.bundleDone();
}})();
"""
    return ("\n".join(modules) + tail).encode()


def _module_name(rng: random.Random, taken: set[str]) -> str:
    name = f"WAWeb{_camel([_word(rng), _word(rng)])}{rng.choice(_MODULE_SUFFIXES)}"
    return f"{name}{len(taken)}" if name in taken else name


def _module(rng: random.Random, name: str, deps: list[str]) -> str:
    body = rng.choice(_MODULE_BODIES)(rng)
    dep_checksum = "".join(f" + require({json.dumps(dep)}).checksum" for dep in deps)
    return f"""__d({json.dumps(name)}, {json.dumps(deps)}, function (global, require, module) {{
  "use strict";
{body}
  module.exports = {{name: {json.dumps(name)}, api: api, checksum: (checksum{dep_checksum}) | 0}};
}});"""


def _strings_body(rng: random.Random) -> str:
    words = json.dumps([_word(rng) for _ in range(rng.randint(6, 12))])
    return f"""  const WORDS = {words};
  function slugify(text) {{
    return text.trim().toLowerCase().replace(/[^a-z0-9]+/g, "-");
  }}
  function buildKeys(seed) {{
    const keys = [];
    for (let i = 0; i < {rng.randint(10, 30)}; i++) {{
      keys.push(slugify(WORDS[i % WORDS.length] + " " + ((seed + i * {rng.randint(3, 97)}) % \
{rng.randint(101, 9973)})));
    }}
    return keys;
  }}
  function api(key) {{
    return buildKeys(key.length).indexOf(slugify(key));
  }}
  const checksum = buildKeys({rng.randrange(1000)}).join("|").length;"""


def _numeric_body(rng: random.Random) -> str:
    return f"""  const table = new Int32Array({rng.randint(32, 128)});
  for (let i = 0; i < table.length; i++) {{
    table[i] = (i * {rng.randint(3, 9973)} + {rng.randrange(1000)}) % {rng.randint(101, 65521)};
  }}
  function mix(acc, value) {{
    return (acc * 31 + value) | 0;
  }}
  function api(rounds) {{
    let acc = {rng.randrange(100000)};
    for (let round = 0; round < rounds; round++) {{
      for (let j = 0; j < table.length; j++) {{
        acc = mix(acc, table[j] ^ round);
      }}
    }}
    return acc;
  }}
  const checksum = api({rng.randint(1, 3)});"""


def _literal(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return str(rng.randrange(100000))
    if kind == 1:
        return json.dumps(_sentence(rng, rng.randint(1, 4)))
    if kind == 2:
        return rng.choice(("true", "false", "null"))
    return json.dumps([rng.randrange(1000) for _ in range(rng.randint(1, 5))])


def _config_body(rng: random.Random) -> str:
    keys = list(dict.fromkeys(_camel([_word(rng), _word(rng)]) for _ in range(rng.randint(8, 16))))
    defaults = ",\n".join(f"    {key[0].lower()}{key[1:]}: {_literal(rng)}" for key in keys)
    return f"""  const DEFAULTS = {{
{defaults}
  }};
  function api(overrides) {{
    const merged = {{}};
    for (const key of Object.keys(DEFAULTS)) {{
      merged[key] = key in overrides ? overrides[key] : DEFAULTS[key];
    }}
    return merged;
  }}
  const checksum = JSON.stringify(api({{{json.dumps(_word(rng))}: {_literal(rng)}}})).length;"""


def _class_body(rng: random.Random) -> str:
    class_name = _camel([_word(rng), _word(rng)]) + "Collection"
    return f"""  class {class_name} {{
    constructor(items) {{
      this.items = items;
    }}
    sortBy(field) {{
      return new {class_name}(this.items.slice().sort((a, b) => a[field] - b[field]));
    }}
    where(predicate) {{
      return new {class_name}(this.items.filter(predicate));
    }}
    summary() {{
      return this.items.map((item) => item.id + ":" + item.name).join(",");
    }}
  }}
  const items = [];
  for (let i = 0; i < {rng.randint(10, 40)}; i++) {{
    items.push({{id: "{_word(rng)}" + i, rank: (i * {rng.randint(3, 97)}) % \
{rng.randint(7, 101)}, name: {json.dumps(_word(rng))}}});
  }}
  const api = new {class_name}(items);
  const checksum = api.sortBy("rank").where((item) => item.rank % 2 === 0).summary().length;"""


_MODULE_BODIES: tuple[Callable[[random.Random], str], ...] = (
    _strings_body,
    _numeric_body,
    _config_body,
    _class_body,
)


class Chat(TypedDict):
    """One chat as the replica's chat API serves it."""

    id: str
    name: str
    unread: int
    timestamp: int
    last_message: str
    is_group: bool


def chat(index: int) -> Chat:
    """The chat at position `index` of the chat list: the same for every run and version."""
    rng = random.Random(f"chat:{index}")
    number = _CHAT_NUMBER_BASE + (index * _CHAT_NUMBER_FACTOR) % _CHAT_NUMBER_SPAN
    newest_s = _NEWEST_CHAT_TIMESTAMP - index * _CHAT_SPACING_S
    is_group = rng.random() < _GROUP_SHARE
    if is_group:
        chat_id = f"120363{number:012d}@g.us"
        name = f"{rng.choice(_GROUP_KINDS)} {rng.choice(_LAST_NAMES)}"
    else:
        chat_id = f"628{number:010d}@c.us"
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    return {
        "id": chat_id,
        "name": name,
        "unread": rng.randint(1, 99) if rng.random() < _UNREAD_SHARE else 0,
        "timestamp": newest_s - rng.randrange(_CHAT_SPACING_S),
        "last_message": _message_text(rng),
        "is_group": is_group,
    }


def _message_text(rng: random.Random) -> str:
    shortest, longest = _MESSAGE_CHARS
    # Words are added until the text reaches `length`, so the last one may overshoot it by
    # a whole word; the full stop adds one more character.
    length = rng.randint(shortest, longest - _LONGEST_WORD - 1)
    return " ".join(_filled(length, lambda: _word(rng))).capitalize() + "."
