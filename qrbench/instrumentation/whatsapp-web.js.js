'use strict';
// OpenTelemetry instrumentation for whatsapp-web.js, built as opentelemetry-js's own are:
// patched on require, spans named after the library's functions. Every span of a client
// is in the context current when that Client was constructed (a gateway's "add account"
// request, say): `Client.initialize` and, inside it, the auth strategy's hooks,
// `puppeteer.launch` (or `connect`), `Client.initWebVersionCache`, `Page.goto` and
// `Client.inject`; `Client qr wait`, from the injection's start to the first `qr`, and a
// `qr listener` span per listener call, its synchronous part and the promise it returns
// (where a gateway's blocking webhook and DB writes sit). docs/tracing.md.

const path = require('node:path');
const { createRequire } = require('node:module');

// Installed with qrbench's driver: one npm install serves both.
const shared = createRequire(path.join(__dirname, '..', 'engines', 'wwebjs', 'package.json'));
const api = shared('@opentelemetry/api');
const {
    InstrumentationBase,
    InstrumentationNodeModuleDefinition,
    isWrapped,
} = shared('@opentelemetry/instrumentation');

const NAME = 'qrbench-instrumentation-whatsapp-web.js';
const VERSION = '0.1.0';
const QR_EVENT = 'qr';
const AUTH_HOOKS = ['beforeBrowserInitialized', 'afterBrowserInitialized', 'onAuthenticationNeeded', 'afterAuthReady'];
const CONSTRUCTED_IN = Symbol('qrbench.constructedIn');
const ORIGINAL = Symbol('qrbench.original');
const QR_WAIT = Symbol('qrbench.qrWait');
const QR_SEEN = Symbol('qrbench.qrSeen');

class WhatsappWebJsInstrumentation extends InstrumentationBase {
    // config.launchArgs: Chromium flags added to every launch (qrbench's replica mapping).
    constructor(config = {}) {
        super(NAME, VERSION, config);
    }

    init() {
        return [
            new InstrumentationNodeModuleDefinition(
                'whatsapp-web.js',
                ['>=1.23.0 <2'],
                (exports) => this._patchLibrary(exports),
                (exports) => this._unpatchLibrary(exports),
            ),
            new InstrumentationNodeModuleDefinition(
                'puppeteer',
                ['>=18'],
                (exports) => this._patchPuppeteer(exports),
                (exports) => this._unpatchPuppeteer(exports),
            ),
        ];
    }

    _patchLibrary(exports) {
        const instrumentation = this;
        const Original = exports.Client;
        // The context a client is made in is the one its spans belong to, however its
        // events and timers reach it later.
        class Client extends Original {
            constructor(...args) {
                super(...args);
                this[CONSTRUCTED_IN] = api.context.active();
            }
        }
        Object.defineProperty(Client, 'name', { value: 'Client' });
        Client[ORIGINAL] = Original;
        exports.Client = Client;
        const proto = Original.prototype;
        this._wrap(proto, 'initialize', (original) => function initialize(...args) {
            const parent = this[CONSTRUCTED_IN] || api.context.active();
            instrumentation._wrapAuthStrategy(this.authStrategy);
            return instrumentation._traced('Client.initialize', parent, () => original.apply(this, args));
        });
        this._wrap(proto, 'initWebVersionCache', (original) => function initWebVersionCache(...args) {
            // The page exists from here on, before the navigation.
            instrumentation._wrapGoto(this.pupPage);
            return instrumentation._traced('Client.initWebVersionCache', api.context.active(), () => original.apply(this, args));
        });
        this._wrap(proto, 'inject', (original) => function inject(...args) {
            // From the first injection to the first qr: inside inject in whatsapp-web.js
            // 1.34 (which goes on exposing functions after it), after it in older ones.
            if (!this[QR_SEEN] && !this[QR_WAIT]) {
                const parent = this[CONSTRUCTED_IN] || api.context.active();
                this[QR_WAIT] = instrumentation.tracer.startSpan('Client qr wait', {}, parent);
            }
            return instrumentation._traced('Client.inject', api.context.active(), () => original.apply(this, args));
        });
        this._wrap(proto, 'emit', (original) => function emit(event, ...args) {
            if (event === QR_EVENT && !this[QR_SEEN]) {
                this[QR_SEEN] = true;
                this[QR_WAIT]?.end();
            }
            return original.call(this, event, ...args);
        });
        this._wrap(proto, 'destroy', (original) => function destroy(...args) {
            // A span never ended is never exported: a client gone before its first qr
            // still says how long it waited, as an error.
            if (!this[QR_SEEN] && this[QR_WAIT]) {
                this[QR_SEEN] = true;
                this[QR_WAIT].setStatus({ code: api.SpanStatusCode.ERROR, message: 'destroyed before the first qr' });
                this[QR_WAIT].end();
            }
            return original.apply(this, args);
        });
        for (const method of ['on', 'addListener', 'once', 'prependListener']) {
            this._wrap(proto, method, (original) => function listen(event, listener) {
                if (event !== QR_EVENT || typeof listener !== 'function') {
                    return original.call(this, event, listener);
                }
                const client = this;
                return original.call(this, event, function qrListener(...args) {
                    const parent = client[CONSTRUCTED_IN] || api.context.active();
                    return instrumentation._traced('qr listener', parent, () => listener.apply(this, args));
                });
            });
        }
        return exports;
    }

    _unpatchLibrary(exports) {
        const Original = exports.Client[ORIGINAL];
        if (Original === undefined) {
            return exports;
        }
        for (const method of ['initialize', 'initWebVersionCache', 'inject', 'emit', 'destroy', 'on', 'addListener', 'once', 'prependListener']) {
            this._unwrap(Original.prototype, method);
        }
        exports.Client = Original;
        return exports;
    }

    _patchPuppeteer(exports) {
        const instrumentation = this;
        this._wrap(exports, 'launch', (original) => function launch(options = {}, ...rest) {
            const extra = instrumentation.getConfig().launchArgs || [];
            const launched = { ...options, args: [...(options.args || []), ...extra] };
            return instrumentation._traced('puppeteer.launch', api.context.active(), () => original.call(this, launched, ...rest));
        });
        this._wrap(exports, 'connect', (original) => function connect(...args) {
            return instrumentation._traced('puppeteer.connect', api.context.active(), () => original.apply(this, args));
        });
        return exports;
    }

    _unpatchPuppeteer(exports) {
        this._unwrap(exports, 'launch');
        this._unwrap(exports, 'connect');
        return exports;
    }

    _wrapAuthStrategy(strategy) {
        if (!strategy) {
            return;
        }
        const strategyName = strategy.constructor.name;
        for (const hook of AUTH_HOOKS) {
            if (typeof strategy[hook] !== 'function' || isWrapped(strategy[hook])) {
                continue;
            }
            this._wrap(strategy, hook, (original) => {
                const instrumentation = this;
                return function authHook(...args) {
                    return instrumentation._traced(`${strategyName}.${hook}`, api.context.active(), () => original.apply(this, args));
                };
            });
        }
    }

    _wrapGoto(page) {
        if (!page || isWrapped(page.goto)) {
            return;
        }
        const instrumentation = this;
        this._wrap(page, 'goto', (original) => function goto(url, ...rest) {
            const span = instrumentation.tracer.startSpan('Page.goto', { attributes: { 'url.full': String(url) } }, api.context.active());
            return instrumentation._settle(span, () => api.context.with(api.trace.setSpan(api.context.active(), span), () => original.call(this, url, ...rest)));
        });
    }

    // `work` in a span named `name`, child of `parent`; the span ends when `work`'s result
    // (a promise, or not) settles, with its error when it throws or rejects.
    _traced(name, parent, work) {
        const span = this.tracer.startSpan(name, {}, parent);
        return this._settle(span, () => api.context.with(api.trace.setSpan(parent, span), work));
    }

    _settle(span, work) {
        const failed = (error) => {
            span.recordException(error);
            span.setStatus({ code: api.SpanStatusCode.ERROR, message: String(error && error.message) });
            span.end();
        };
        let result;
        try {
            result = work();
        } catch (error) {
            failed(error);
            throw error;
        }
        if (result && typeof result.then === 'function') {
            return result.then(
                (value) => {
                    span.end();
                    return value;
                },
                (error) => {
                    failed(error);
                    throw error;
                },
            );
        }
        span.end();
        return result;
    }
}

module.exports = { WhatsappWebJsInstrumentation };
