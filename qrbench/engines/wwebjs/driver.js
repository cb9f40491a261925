'use strict';
// qrbench's driver for the real whatsapp-web.js: one login per process.
//
// Protocol (JSON lines; docs/engines.md): the driver says `loaded` once the library is
// required; qrbench sends one `config` line; the driver prepares what a gateway holds before
// any login (its Redis client), says `prepared` and starts `client.initialize()` at once.
// While it runs, the driver reports stage marks, the `browser` it launched and every `qr`
// event; qrbench may ask for a `screenshot` of the QR canvas, and says `close` at the end.
// Every time is process.hrtime (CLOCK_MONOTONIC on Linux, the clock of Python's
// time.monotonic), so qrbench places each mark on the session's own clock.
//
// The library is not patched: stage boundaries come from a subclass of Client and of the
// auth strategies, which call the library's own methods.

const readline = require('node:readline');

const wwebjs = require('whatsapp-web.js');
const { RedisStore, connectRedis } = require('./redis_store');

const LIBRARY_VERSION = require('whatsapp-web.js/package.json').version;

function now() {
    return process.hrtime.bigint().toString();
}

function send(message) {
    process.stdout.write(JSON.stringify(message) + '\n');
}

function mark(name) {
    send({ type: 'mark', name, at_ns: now() });
}

// auth_restore is the strategy's beforeBrowserInitialized; browser_launch ends when the
// library hands the launched browser to afterBrowserInitialized.
function timedStrategy(Strategy, harness) {
    return class extends Strategy {
        async beforeBrowserInitialized() {
            mark('auth_start');
            await super.beforeBrowserInitialized();
            mark('auth_end');
        }

        async afterBrowserInitialized() {
            mark('browser_ready');
            await harness(this.client);
            await super.afterBrowserInitialized();
        }
    };
}

class TimedClient extends wwebjs.Client {
    async initWebVersionCache() {
        // The library adds a request listener only to answer the index from what its
        // cache resolved; without a hit it listens for the live page's response instead.
        const requestListeners = this.pupPage.listenerCount('request');
        mark('web_version_start');
        await super.initWebVersionCache();
        mark('web_version_end');
        const type = this.options.webVersionCache.type;
        const hit = this.pupPage.listenerCount('request') > requestListeners;
        send({ type: 'web_cache', outcome: type === 'none' ? 'not_used' : hit ? 'hit' : 'miss' });
    }

    async inject() {
        // The library calls inject right after page.goto resolved on `load`.
        if (!this.qrbenchLoaded) {
            this.qrbenchLoaded = true;
            mark('page_loaded');
        }
        return super.inject();
    }
}

// What qrbench does that no gateway would: tell the replica which session this page is
// (a header on every request, since the library's URL is fixed) and emulate the
// scenario's network and CPU on the page's DevTools session. Its time is reported so
// qrbench takes it off the session's clock.
function harnessFor(config) {
    return async (client) => {
        const startNs = now();
        const page = client.pupPage;
        await page.setExtraHTTPHeaders({ [config.session_header]: config.session_id });
        const emulation = config.emulation;
        if (emulation.network_rules.length > 0 || emulation.cpu_throttling_rate !== 1) {
            const cdp = await page.createCDPSession();
            if (emulation.network_rules.length > 0) {
                await cdp.send('Network.emulateNetworkConditionsByRule', {
                    offline: false,
                    matchedNetworkConditions: emulation.network_rules,
                });
            }
            if (emulation.cpu_throttling_rate !== 1) {
                await cdp.send('Emulation.setCPUThrottlingRate', {
                    rate: emulation.cpu_throttling_rate,
                });
            }
        }
        send({ type: 'harness', start_ns: startNs, end_ns: now() });
    };
}

function strategyFor(config, redis, harness) {
    const auth = config.auth;
    if (auth.strategy === 'remoteauth') {
        const Strategy = timedStrategy(wwebjs.RemoteAuth, harness);
        return new Strategy({
            clientId: config.session_id,
            dataPath: auth.data_path,
            store: new RedisStore(redis, auth.data_path),
            backupSyncIntervalMs: auth.backup_sync_interval_ms,
        });
    }
    const Strategy = timedStrategy(wwebjs.LocalAuth, harness);
    return new Strategy({ clientId: config.session_id, dataPath: auth.data_path });
}

function describe(error) {
    // The library throws strings too ('auth timeout').
    if (error instanceof Error) {
        return { name: error.name, message: error.message };
    }
    return { name: 'Error', message: String(error) };
}

async function screenshot(client) {
    const page = client.pupPage;
    const holder = await page.$('div[data-ref]');
    const canvas = holder ? await holder.$('canvas') : null;
    if (canvas === null) {
        return { type: 'screenshot', png: null, data_ref: null };
    }
    const png = await canvas.screenshot({ encoding: 'base64' });
    const dataRef = await holder.evaluate((element) => element.getAttribute('data-ref'));
    return { type: 'screenshot', png, data_ref: dataRef };
}

async function endLogin(client, puppeteerOptions) {
    if (!puppeteerOptions.browserWSEndpoint && !puppeteerOptions.browserURL) {
        return client.destroy();
    }
    // client.destroy() closes the browser, here one that other logins share: a gateway on
    // a remote browser closes its own page and lets go of the connection instead.
    if (client.pupPage) {
        await client.pupPage.close().catch(() => {});
    }
    if (client.pupBrowser) {
        await client.pupBrowser.disconnect();
    }
    await client.authStrategy.destroy();
}

async function main() {
    const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    send({ type: 'loaded', library_version: LIBRARY_VERSION, node_version: process.version });
    const first = await lines.next();
    if (first.done) {
        return;
    }
    const config = JSON.parse(first.value);
    const redis = config.auth.strategy === 'remoteauth' ? await connectRedis(config.auth.store_url) : null;
    const client = new TimedClient({
        ...config.client_options,
        authStrategy: strategyFor(config, redis, harnessFor(config)),
    });
    client.on('qr', (qr) => send({ type: 'qr', qr, at_ns: now() }));
    client.on('disconnected', (reason) => send({ type: 'disconnected', reason: String(reason) }));
    send({ type: 'prepared', at_ns: now() });
    client.initialize().catch((error) => send({ type: 'failed', at_ns: now(), ...describe(error) }));
    for await (const line of { [Symbol.asyncIterator]: () => lines }) {
        const command = JSON.parse(line);
        if (command.type === 'screenshot') {
            send(await screenshot(client).catch((error) => ({ type: 'screenshot_failed', ...describe(error) })));
        } else if (command.type === 'close') {
            break;
        }
    }
    // stdin closed or `close`: end the login as a gateway would, then leave.
    await endLogin(client, config.client_options.puppeteer).catch(() => {});
    if (redis !== null) {
        await redis.quit().catch(() => {});
    }
    send({ type: 'closed' });
    process.exit(0);
}

main().catch((error) => {
    send({ type: 'crashed', ...describe(error) });
    process.exit(1);
});
