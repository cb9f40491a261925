"""The whatsapp-web.js engine: the real library, driven by a Node process per login.

`install` finds Node and the driver's modules, `options` turns a profile into the
library's Client options (refusing what it cannot honour), `driver` speaks to the Node
process, and `engine` places the library's stages on the session's clock
(docs/engines.md).
"""
