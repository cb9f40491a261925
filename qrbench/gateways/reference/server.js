'use strict';
// The reference gateway: a service built the study's way, for qrbench to time from
// outside as it would time a user's own. An HTTP API starts a whatsapp-web.js Client per
// account (its SessionManager), answers with the first QR, lets it be polled, or sends it
// by webhook, and destroys the client on DELETE. The account's row is written to SQLite
// when it is asked for and when its QR shows (accounts.js). With GATEWAY_INSTANCES=N over
// 1, this process is the router in front of N instance processes, each with its own
// clients. Its knobs are environment variables (docs/gateway.md). It is a test bed and
// an example, not a product.
//
// Routes:
//   POST   /sessions/{id}[?wait=qr]  202 {status: STARTING}; with wait=qr, 201 {qr} once shown.
//                                    Body {"webhook_url": URL}: this session's QR is posted there.
//   GET    /sessions/{id}/qr         200 {status: STARTING | SCAN_QR | FAILED, qr?, error?}
//   DELETE /sessions/{id}            204, the client destroyed (its Chromium closed)
//   GET    /health                   200 {status: ok, sessions}

const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const http = require('node:http');
const { createRequire } = require('node:module');
const os = require('node:os');
const path = require('node:path');

const { Accounts } = require('./accounts.js');

// whatsapp-web.js and redis as pinned for qrbench's driver: one install serves both.
const shared = createRequire(path.join(__dirname, '..', '..', 'engines', 'wwebjs', 'package.json'));
const wwebjs = shared('whatsapp-web.js');
const { RedisStore, connectRedis } = shared('./redis_store.js');
const api = shared('@opentelemetry/api');

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const QR_EXPIRES_IN_S = 300;
const MAX_BODY_BYTES = 64 * 1024;
// Set by the router on the instance processes it starts.
const INSTANCE_INDEX = process.env.GATEWAY_INSTANCE_INDEX;

function settings(env) {
    const json = (name, fallback) => {
        try {
            return env[name] ? JSON.parse(env[name]) : fallback;
        } catch (error) {
            throw new Error(`${name} is not JSON: ${error.message}`);
        }
    };
    const webhookMode = env.GATEWAY_WEBHOOK_MODE || 'off';
    if (!['off', 'blocking', 'background'].includes(webhookMode)) {
        throw new Error(`GATEWAY_WEBHOOK_MODE must be off, blocking or background, not ${webhookMode}`);
    }
    const auth = env.GATEWAY_AUTH || 'localauth';
    if (!['localauth', 'remoteauth'].includes(auth)) {
        throw new Error(`GATEWAY_AUTH must be localauth or remoteauth, not ${auth}`);
    }
    if (auth === 'remoteauth' && !env.GATEWAY_REDIS_URL) {
        throw new Error('GATEWAY_AUTH=remoteauth needs GATEWAY_REDIS_URL');
    }
    if (webhookMode !== 'off' && !env.GATEWAY_WEBHOOK_URL) {
        throw new Error('GATEWAY_WEBHOOK_MODE on needs GATEWAY_WEBHOOK_URL');
    }
    const instances = Number(env.GATEWAY_INSTANCES || 1);
    if (!Number.isInteger(instances) || instances < 1) {
        throw new Error(`GATEWAY_INSTANCES must be a whole number from 1, not ${env.GATEWAY_INSTANCES}`);
    }
    const dataPath = env.GATEWAY_DATA_PATH || path.join(os.tmpdir(), 'reference-gateway');
    return {
        host: env.GATEWAY_HOST || '127.0.0.1',
        port: Number(env.GATEWAY_PORT || 0),
        auth,
        redisUrl: env.GATEWAY_REDIS_URL,
        dataPath,
        dbPath: env.GATEWAY_DB_PATH || path.join(dataPath, 'gateway.db'),
        dbUpdates: env.GATEWAY_DB_UPDATES || 'combined',
        instances,
        backupSyncIntervalMs: Number(env.GATEWAY_BACKUP_SYNC_INTERVAL_MS || 60000),
        // The Client options whole (what qrbench passes from a profile), or a few by name.
        clientOptions: json('GATEWAY_CLIENT_OPTIONS', null) || {
            puppeteer: {
                executablePath: env.GATEWAY_CHROMIUM || '/usr/bin/chromium',
                headless: true,
                args: json('GATEWAY_CHROMIUM_ARGS', []),
                timeout: Number(env.GATEWAY_TIMEOUT_MS || 30000),
                protocolTimeout: Number(env.GATEWAY_PROTOCOL_TIMEOUT_MS || 30000),
            },
            webVersionCache: json('GATEWAY_WEB_VERSION_CACHE', { type: 'none' }),
            ...(env.GATEWAY_WEB_VERSION ? { webVersion: env.GATEWAY_WEB_VERSION } : {}),
        },
        // A webhook for every session (mode blocking or background), signed when there is
        // a secret; a session's own webhook_url goes out in the background unless blocking.
        webhook: { mode: webhookMode, url: env.GATEWAY_WEBHOOK_URL, secret: env.GATEWAY_WEBHOOK_SECRET },
    };
}

// The event the study's service sends to its Laravel app. With a secret it is signed in
// the format qrbench's receiver checks: HMAC-SHA256 of `timestamp.body`, hex.
async function postQr(url, secret, sessionId, qr) {
    const body = JSON.stringify({
        event: 'qr_code_generated',
        data: { workspace_id: 0, session_id: sessionId, qr_code: qr, expires_in: QR_EXPIRES_IN_S },
    });
    const headers = { 'Content-Type': 'application/json' };
    if (secret) {
        const timestamp = String(Math.floor(Date.now() / 1000));
        headers['X-Webhook-Timestamp'] = timestamp;
        headers['X-Webhook-Signature'] = crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
    }
    const response = await fetch(url, { method: 'POST', headers, body });
    await response.arrayBuffer();
    if (!response.ok) {
        throw new Error(`webhook receiver answered ${response.status}`);
    }
}

class SessionManager {
    // `recordQr(sessionId)` writes the account's QR to the database, in this process or
    // through the router's.
    constructor(config, redis, recordQr) {
        this.config = config;
        this.redis = redis;
        this.recordQr = recordQr;
        this.sessions = new Map();
    }

    authStrategy(sessionId) {
        const { auth, dataPath, backupSyncIntervalMs } = this.config;
        if (auth === 'remoteauth') {
            return new wwebjs.RemoteAuth({
                clientId: sessionId,
                dataPath,
                store: new RedisStore(this.redis, dataPath),
                backupSyncIntervalMs,
            });
        }
        return new wwebjs.LocalAuth({ clientId: sessionId, dataPath });
    }

    // Where and how this session's QR is posted: its own URL, else the gateway's; none: null.
    webhookOf(sessionUrl) {
        const { webhook } = this.config;
        if (sessionUrl) {
            const blocking = webhook.mode === 'blocking';
            return { url: sessionUrl, secret: webhook.secret, blocking };
        }
        if (webhook.mode === 'off') {
            return null;
        }
        return { url: webhook.url, secret: webhook.secret, blocking: webhook.mode === 'blocking' };
    }

    start(sessionId, webhookUrl) {
        const existing = this.sessions.get(sessionId);
        if (existing) {
            return existing;
        }
        const client = new wwebjs.Client({
            ...this.config.clientOptions,
            authStrategy: this.authStrategy(sessionId),
        });
        const session = { client, status: 'STARTING', qr: null, error: null, waiters: [] };
        const settle = () => session.waiters.splice(0).forEach((wake) => wake());
        const webhook = this.webhookOf(webhookUrl);
        client.on('qr', async (qr) => {
            const firstQr = session.qr === null;
            try {
                if (firstQr) {
                    await this.recordQr(sessionId);
                }
                if (webhook !== null && webhook.blocking) {
                    // The study's service: the QR is the user's only once Laravel took it.
                    await postQr(webhook.url, webhook.secret, sessionId, qr);
                } else if (webhook !== null) {
                    postQr(webhook.url, webhook.secret, sessionId, qr).catch(() => {});
                }
            } catch (error) {
                session.error = error.message;
            }
            session.status = session.error ? 'FAILED' : 'SCAN_QR';
            session.qr = qr;
            settle();
        });
        client.initialize().catch((error) => {
            session.status = 'FAILED';
            session.error = error instanceof Error ? error.message : String(error);
            settle();
        });
        this.sessions.set(sessionId, session);
        return session;
    }

    firstQr(session) {
        if (session.status !== 'STARTING') {
            return Promise.resolve();
        }
        return new Promise((resolve) => session.waiters.push(resolve));
    }

    async stop(sessionId) {
        const session = this.sessions.get(sessionId);
        if (!session) {
            return false;
        }
        this.sessions.delete(sessionId);
        await session.client.destroy().catch(() => {});
        return true;
    }

    async stopAll() {
        await Promise.all([...this.sessions.keys()].map((id) => this.stop(id)));
    }
}

function answer(response, status, body) {
    response.writeHead(status, body === undefined ? {} : { 'Content-Type': 'application/json' });
    response.end(body === undefined ? undefined : JSON.stringify(body));
}

function view(session) {
    if (session.status === 'FAILED') {
        return { status: 'FAILED', error: session.error };
    }
    return session.qr === null ? { status: 'STARTING' } : { status: 'SCAN_QR', qr: session.qr };
}

async function readJson(request) {
    const chunks = [];
    let size = 0;
    for await (const chunk of request) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
            throw new RequestError(413, 'body too large');
        }
        chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8').trim();
    if (!text) {
        return {};
    }
    try {
        const body = JSON.parse(text);
        if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
            return body;
        }
    } catch {
        // answered below
    }
    throw new RequestError(400, 'the body is not a JSON object');
}

class RequestError extends Error {
    constructor(status, message) {
        super(message);
        this.status = status;
    }
}

// The session a request is about, or null for /health; RequestError for anything else.
function sessionOf(request, url) {
    const parts = url.pathname.split('/').filter(Boolean);
    if (request.method === 'GET' && url.pathname === '/health') {
        return null;
    }
    if (parts[0] !== 'sessions' || parts.length < 2 || parts.length > 3 || !SESSION_ID.test(parts[1])) {
        throw new RequestError(404, 'no such route');
    }
    if (parts.length === 3 && !(request.method === 'GET' && parts[2] === 'qr')) {
        throw new RequestError(404, 'no such route');
    }
    if (parts.length === 2 && !['POST', 'DELETE'].includes(request.method)) {
        throw new RequestError(405, 'method not allowed');
    }
    return { id: parts[1], qr: parts.length === 3 };
}

async function route(manager, accounts, request, response) {
    const url = new URL(request.url, 'http://gateway');
    const target = sessionOf(request, url);
    if (target === null) {
        return answer(response, 200, { status: 'ok', sessions: manager.sessions.size });
    }
    const sessionId = target.id;
    if (request.method === 'POST') {
        const { webhook_url: webhookUrl } = await readJson(request);
        if (webhookUrl !== undefined && typeof webhookUrl !== 'string') {
            throw new RequestError(400, 'webhook_url must be a URL');
        }
        if (accounts !== null) {
            accounts.create(sessionId);
        }
        const session = manager.start(sessionId, webhookUrl);
        if (url.searchParams.get('wait') !== 'qr') {
            return answer(response, 202, { session: sessionId, status: 'STARTING' });
        }
        await manager.firstQr(session);
        const shown = view(session);
        return answer(response, shown.status === 'FAILED' ? 500 : 201, { session: sessionId, ...shown });
    }
    if (target.qr) {
        const session = manager.sessions.get(sessionId);
        return session ? answer(response, 200, view(session)) : answer(response, 404, { error: 'no session' });
    }
    if (accounts !== null) {
        accounts.remove(sessionId);
    }
    return (await manager.stop(sessionId)) ? answer(response, 204) : answer(response, 404, { error: 'no session' });
}

function failed(response, error) {
    if (response.headersSent) {
        return response.destroy();
    }
    return answer(response, error.status || 500, { error: error.message });
}

function listen(server, config) {
    return new Promise((resolve) => {
        server.listen(config.port, config.host, () => resolve(server.address().port));
    });
}

// One process: the API, the clients and the database.
async function serveAlone(config) {
    const redis = config.auth === 'remoteauth' ? await connectRedis(config.redisUrl) : null;
    const accounts = new Accounts(config.dbPath, config.dbUpdates, 1);
    const manager = new SessionManager(config, redis, async (sessionId) => accounts.recordQr(sessionId, 0));
    const server = http.createServer((request, response) => {
        route(manager, accounts, request, response).catch((error) => failed(response, error));
    });
    const port = await listen(server, config);
    console.log(`reference gateway listening on http://${config.host}:${port}`);
    return async () => {
        server.close();
        await manager.stopAll();
        accounts.close();
        if (redis !== null) {
            await redis.quit().catch(() => {});
        }
    };
}

// An instance behind the router: the clients; the database is the router's, asked over IPC.
async function serveInstance(config) {
    const redis = config.auth === 'remoteauth' ? await connectRedis(config.redisUrl) : null;
    const pending = new Map();
    let asked = 0;
    process.on('message', ({ recorded, error }) => {
        if (recorded === undefined) {
            return;
        }
        const done = pending.get(recorded);
        pending.delete(recorded);
        if (done) {
            done(error);
        }
    });
    const recordQr = (sessionId) =>
        new Promise((resolve, reject) => {
            asked += 1;
            pending.set(asked, (error) => (error ? reject(new Error(error)) : resolve()));
            // The trace goes along, so the router's writes nest under this QR's spans.
            const carrier = {};
            api.propagation.inject(api.context.active(), carrier);
            process.send({ record: asked, sessionId, instance: Number(INSTANCE_INDEX), carrier });
        });
    const manager = new SessionManager(config, redis, recordQr);
    const server = http.createServer((request, response) => {
        route(manager, null, request, response).catch((error) => failed(response, error));
    });
    const port = await listen(server, { ...config, host: '127.0.0.1', port: 0 });
    process.send({ listening: port });
    return async () => {
        server.close();
        await manager.stopAll();
        if (redis !== null) {
            await redis.quit().catch(() => {});
        }
    };
}

function startInstance(index) {
    const child = childProcess.fork(__filename, [], {
        env: {
            ...process.env,
            GATEWAY_INSTANCE_INDEX: String(index),
            GATEWAY_INSTANCES: '1',
            OTEL_SERVICE_NAME: `${process.env.OTEL_SERVICE_NAME || 'gateway'}-instance-${index}`,
        },
        stdio: 'inherit',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const listening = new Promise((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`instance ${index} exited with ${code} before listening`)));
        child.on('message', (message) => {
            if (message.listening) {
                resolve(message.listening);
            }
        });
    });
    return { child, exited, listening };
}

function proxy(port, request, response) {
    const upstream = http.request(
        { host: '127.0.0.1', port, method: request.method, path: request.url, headers: request.headers },
        (answered) => {
            response.writeHead(answered.statusCode, answered.headers);
            answered.pipe(response);
        },
    );
    upstream.on('error', (error) => failed(response, new RequestError(502, `instance: ${error.message}`)));
    request.pipe(upstream);
}

// The router: the API's front, the database, and N instances with the clients. A new
// account is routed by its row (accounts.js), and every later request for it follows.
async function serveRouter(config) {
    const accounts = new Accounts(config.dbPath, config.dbUpdates, config.instances);
    const instances = [...Array(config.instances).keys()].map(startInstance);
    const ports = await Promise.all(instances.map((instance) => instance.listening));
    for (const { child } of instances) {
        child.on('message', ({ record, sessionId, instance, carrier }) => {
            if (record === undefined) {
                return;
            }
            try {
                const traced = api.propagation.extract(api.ROOT_CONTEXT, carrier || {});
                api.context.with(traced, () => accounts.recordQr(sessionId, instance));
                child.send({ recorded: record });
            } catch (error) {
                child.send({ recorded: record, error: error.message });
            }
        });
    }
    const routed = new Map();
    const server = http.createServer((request, response) => {
        try {
            const url = new URL(request.url, 'http://gateway');
            const target = sessionOf(request, url);
            if (target === null) {
                return answer(response, 200, { status: 'ok', sessions: routed.size, instances: ports.length });
            }
            if (request.method === 'POST' && !routed.has(target.id)) {
                routed.set(target.id, accounts.create(target.id));
            }
            const index = routed.get(target.id);
            if (index === undefined) {
                return answer(response, 404, { error: 'no session' });
            }
            if (request.method === 'DELETE') {
                routed.delete(target.id);
                accounts.remove(target.id);
            }
            return proxy(ports[index], request, response);
        } catch (error) {
            return failed(response, error);
        }
    });
    const port = await listen(server, config);
    console.log(`reference gateway listening on http://${config.host}:${port} (router, ${ports.length} instances)`);
    return async () => {
        server.close();
        for (const { child } of instances) {
            child.kill('SIGTERM');
        }
        await Promise.all(instances.map((instance) => instance.exited));
        accounts.close();
    };
}

async function main() {
    const config = settings(process.env);
    let serve = serveAlone;
    if (INSTANCE_INDEX !== undefined) {
        serve = serveInstance;
        // The router is gone: so is this instance, with its clients' browsers.
        process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    } else if (config.instances > 1) {
        serve = serveRouter;
    }
    const stop = await serve(config);
    // Stopped by whoever started it: every client's Chromium goes with it. A group's
    // SIGTERM reaches the router and its instances, which the router stops too: once each.
    let stopping = false;
    const shutdown = async () => {
        if (stopping) {
            return;
        }
        stopping = true;
        await stop();
        process.exit(0);
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
}

main().catch((error) => {
    console.error(`reference gateway: ${error.message}`);
    process.exit(2);
});
