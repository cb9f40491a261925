'use strict';
// The gateway's own database, as the study's app keeps it: a `whatsapp_accounts` row per
// account, created when "add account" is asked and updated when its QR is shown, once
// (status and instance together) or twice (status, then the instance), each write
// committed to a SQLite file (SQLite compiled to WASM: no native build to install).

const fs = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');

// Installed with qrbench's driver: one npm install serves both.
const shared = createRequire(path.join(__dirname, '..', '..', 'engines', 'wwebjs', 'package.json'));
const { Database } = shared('node-sqlite3-wasm');
// Spans of the writes, when the gateway runs with an OpenTelemetry SDK; no-ops otherwise.
const api = shared('@opentelemetry/api');

const tracer = api.trace.getTracer('qrbench-reference-gateway');

// `statement` in a client span named as the semantic conventions name a DB operation.
function traced(name, statement) {
    const attributes = {
        'db.system.name': 'sqlite',
        'db.collection.name': 'whatsapp_accounts',
        'db.operation.name': name.split(' ')[0],
    };
    return tracer.startActiveSpan(name, { kind: api.SpanKind.CLIENT, attributes }, (span) => {
        try {
            return statement();
        } catch (error) {
            span.recordException(error);
            span.setStatus({ code: api.SpanStatusCode.ERROR, message: error.message });
            throw error;
        } finally {
            span.end();
        }
    });
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS whatsapp_accounts (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_activity_at TEXT,
    assigned_instance_index INTEGER
)`;

class Accounts {
    constructor(dbPath, updates, instances) {
        if (!['combined', 'split'].includes(updates)) {
            throw new Error(`GATEWAY_DB_UPDATES must be combined or split, not ${updates}`);
        }
        fs.mkdirSync(path.dirname(dbPath), { recursive: true });
        this.db = new Database(dbPath);
        this.db.exec(SCHEMA);
        this.updates = updates;
        this.instances = instances;
    }

    // The account's row, and the instance it is routed to: the row's id modulo the
    // instances (the study's router, a read and a modulo). A session asked again keeps it.
    create(sessionId) {
        const now = new Date().toISOString();
        traced('INSERT whatsapp_accounts', () =>
            this.db.run(
                `INSERT INTO whatsapp_accounts (session_id, status, created_at) VALUES (?, 'pending', ?)
                 ON CONFLICT (session_id) DO UPDATE SET status = 'pending'`,
                [sessionId, now],
            ),
        );
        const { id } = traced('SELECT whatsapp_accounts', () =>
            this.db.get('SELECT id FROM whatsapp_accounts WHERE session_id = ?', [sessionId]),
        );
        return id % this.instances;
    }

    recordQr(sessionId, instance) {
        const now = new Date().toISOString();
        if (this.updates === 'combined') {
            traced('UPDATE whatsapp_accounts (status, instance)', () =>
                this.db.run(
                    `UPDATE whatsapp_accounts SET status = 'qr_scanning', last_activity_at = ?,
                     assigned_instance_index = ? WHERE session_id = ?`,
                    [now, instance, sessionId],
                ),
            );
            return;
        }
        traced('UPDATE whatsapp_accounts (status)', () =>
            this.db.run(
                "UPDATE whatsapp_accounts SET status = 'qr_scanning', last_activity_at = ? WHERE session_id = ?",
                [now, sessionId],
            ),
        );
        traced('UPDATE whatsapp_accounts (instance)', () =>
            this.db.run('UPDATE whatsapp_accounts SET assigned_instance_index = ? WHERE session_id = ?', [
                instance,
                sessionId,
            ]),
        );
    }

    remove(sessionId) {
        this.db.run('DELETE FROM whatsapp_accounts WHERE session_id = ?', [sessionId]);
    }

    count() {
        return this.db.get('SELECT COUNT(*) AS n FROM whatsapp_accounts').n;
    }

    close() {
        this.db.close();
    }
}

module.exports = { Accounts };
