'use strict';
// The RemoteAuth store the study's team wrote, shared by qrbench's driver and the
// reference gateway (qrbench/gateways/reference): the session zip's bytes under its name.

const fs = require('node:fs');
const path = require('node:path');

const { createClient, commandOptions } = require('redis');

const REDIS_TIMEOUT_MS = 5000;

class RedisStore {
    constructor(client, dataPath) {
        this.client = client;
        this.dataPath = dataPath;
    }

    async sessionExists({ session }) {
        return (await this.client.exists(session)) === 1;
    }

    async save({ session }) {
        // RemoteAuth leaves the zip in its dataPath under the session's name.
        const data = await fs.promises.readFile(path.join(this.dataPath, `${session}.zip`));
        await this.client.set(session, data);
    }

    async extract({ session, path: zipPath }) {
        const data = await this.client.get(commandOptions({ returnBuffers: true }), session);
        if (data === null) {
            throw new Error(`the store holds no session ${session}`);
        }
        await fs.promises.writeFile(zipPath, data);
    }

    async delete({ session }) {
        await this.client.del(session);
    }
}

async function connectRedis(url) {
    // No reconnects: a dead Redis fails the login once, as qrbench's own store does.
    const socket = { connectTimeout: REDIS_TIMEOUT_MS, reconnectStrategy: false };
    const options = url.startsWith('unix://')
        ? { socket: { ...socket, path: url.slice('unix://'.length) } }
        : { url, socket };
    const client = createClient(options);
    client.on('error', () => {}); // every failure also rejects the command that met it
    await client.connect();
    return client;
}

module.exports = { RedisStore, connectRedis };
