'use strict';
// The reference gateway: a service built the study's way, for qrbench to time from
// outside as it would time a user's own. An HTTP API starts a whatsapp-web.js Client per
// account (its SessionManager), answers with the first QR, lets it be polled, or sends it
// by signed webhook, and destroys the client on DELETE. Its knobs are environment
// variables (docs/gateway.md). It is a test bed and an example, not a product.
//
// Routes:
//   POST   /sessions/{id}[?wait=qr]  202 {status: STARTING}; with wait=qr, 201 {qr} once shown
//   GET    /sessions/{id}/qr         200 {status: STARTING | SCAN_QR | FAILED, qr?, error?}
//   DELETE /sessions/{id}            204, the client destroyed (its Chromium closed)
//   GET    /health                   200 {status: ok, sessions}

const crypto = require('node:crypto');
const http = require('node:http');
const { createRequire } = require('node:module');
const os = require('node:os');
const path = require('node:path');

// whatsapp-web.js and redis as pinned for qrbench's driver: one install serves both.
const shared = createRequire(path.join(__dirname, '..', '..', 'engines', 'wwebjs', 'package.json'));
const wwebjs = shared('whatsapp-web.js');
const { RedisStore, connectRedis } = shared('./redis_store.js');

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const QR_EXPIRES_IN_S = 300;

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
    if (webhookMode !== 'off' && !(env.GATEWAY_WEBHOOK_URL && env.GATEWAY_WEBHOOK_SECRET)) {
        throw new Error('a webhook needs GATEWAY_WEBHOOK_URL and GATEWAY_WEBHOOK_SECRET');
    }
    return {
        host: env.GATEWAY_HOST || '127.0.0.1',
        port: Number(env.GATEWAY_PORT || 0),
        auth,
        redisUrl: env.GATEWAY_REDIS_URL,
        dataPath: env.GATEWAY_DATA_PATH || path.join(os.tmpdir(), 'reference-gateway'),
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
        webhook: { mode: webhookMode, url: env.GATEWAY_WEBHOOK_URL, secret: env.GATEWAY_WEBHOOK_SECRET },
    };
}

// The signed event the study's service sends to its Laravel app, in the format qrbench's
// receiver checks: HMAC-SHA256 of `timestamp.body`, hex.
async function postQr(webhook, sessionId, qr) {
    const body = JSON.stringify({
        event: 'qr_code_generated',
        data: { workspace_id: 0, session_id: sessionId, qr_code: qr, expires_in: QR_EXPIRES_IN_S },
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = crypto.createHmac('sha256', webhook.secret).update(`${timestamp}.${body}`).digest('hex');
    const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
            'Content-Type': 'application/json',
            'X-Webhook-Signature': signature,
            'X-Webhook-Timestamp': timestamp,
        },
        body,
    });
    await response.arrayBuffer();
    if (!response.ok) {
        throw new Error(`webhook receiver answered ${response.status}`);
    }
}

class SessionManager {
    constructor(config, redis) {
        this.config = config;
        this.redis = redis;
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

    start(sessionId) {
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
        client.on('qr', async (qr) => {
            const { webhook } = this.config;
            if (webhook.mode === 'blocking') {
                // The study's service: the QR is the user's only once Laravel took it.
                await postQr(webhook, sessionId, qr).catch((error) => {
                    session.error = `webhook: ${error.message}`;
                });
            } else if (webhook.mode === 'background') {
                postQr(webhook, sessionId, qr).catch(() => {});
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

async function route(manager, request, response) {
    const url = new URL(request.url, 'http://gateway');
    const parts = url.pathname.split('/').filter(Boolean);
    if (request.method === 'GET' && url.pathname === '/health') {
        return answer(response, 200, { status: 'ok', sessions: manager.sessions.size });
    }
    if (parts[0] !== 'sessions' || parts.length < 2 || !SESSION_ID.test(parts[1])) {
        return answer(response, 404, { error: 'no such route' });
    }
    const sessionId = parts[1];
    if (request.method === 'POST' && parts.length === 2) {
        const session = manager.start(sessionId);
        if (url.searchParams.get('wait') !== 'qr') {
            return answer(response, 202, { session: sessionId, status: 'STARTING' });
        }
        await manager.firstQr(session);
        const shown = view(session);
        return answer(response, shown.status === 'FAILED' ? 500 : 201, { session: sessionId, ...shown });
    }
    if (request.method === 'GET' && parts.length === 3 && parts[2] === 'qr') {
        const session = manager.sessions.get(sessionId);
        return session ? answer(response, 200, view(session)) : answer(response, 404, { error: 'no session' });
    }
    if (request.method === 'DELETE' && parts.length === 2) {
        return (await manager.stop(sessionId)) ? answer(response, 204) : answer(response, 404, { error: 'no session' });
    }
    return answer(response, 405, { error: 'method not allowed' });
}

async function main() {
    const config = settings(process.env);
    const redis = config.auth === 'remoteauth' ? await connectRedis(config.redisUrl) : null;
    const manager = new SessionManager(config, redis);
    const server = http.createServer((request, response) => {
        route(manager, request, response).catch((error) => answer(response, 500, { error: error.message }));
    });
    server.listen(config.port, config.host, () => {
        const { port } = server.address();
        console.log(`reference gateway listening on http://${config.host}:${port}`);
    });
    // Stopped by whoever started it: every client's Chromium goes with it.
    const shutdown = async () => {
        server.close();
        await manager.stopAll();
        if (redis !== null) {
            await redis.quit().catch(() => {});
        }
        process.exit(0);
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);
}

main().catch((error) => {
    console.error(`reference gateway: ${error.message}`);
    process.exit(2);
});
