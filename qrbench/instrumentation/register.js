'use strict';
// OpenTelemetry for an unmodified whatsapp-web.js gateway: `node --require
// .../qrbench/instrumentation/register.js gateway.js` (or the same in NODE_OPTIONS).
// With OTEL_EXPORTER_OTLP_ENDPOINT set (qrbench sets it for a gateway it starts) it
// registers a tracer provider exporting OTLP/HTTP protobuf in batches, the HTTP, undici
// (fetch) and Redis (node-redis, RemoteAuth's usual store) instrumentations, and qrbench's
// for whatsapp-web.js; without it, nothing.
// QRBENCH_CHROMIUM_ARGS (a JSON list) adds Chromium flags to every puppeteer launch:
// qrbench's replica mapping and certificate trust, so any such gateway runs offline.

const path = require('node:path');
const { createRequire } = require('node:module');

const shared = createRequire(path.join(__dirname, '..', 'engines', 'wwebjs', 'package.json'));

function launchArgs(env) {
    if (!env.QRBENCH_CHROMIUM_ARGS) {
        return [];
    }
    const args = JSON.parse(env.QRBENCH_CHROMIUM_ARGS);
    if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
        throw new Error('QRBENCH_CHROMIUM_ARGS must be a JSON list of strings');
    }
    return args;
}

function register(env) {
    const { WhatsappWebJsInstrumentation } = require('./whatsapp-web.js.js');
    const { registerInstrumentations } = shared('@opentelemetry/instrumentation');
    const instrumentations = [new WhatsappWebJsInstrumentation({ launchArgs: launchArgs(env) })];
    if (env.OTEL_EXPORTER_OTLP_ENDPOINT) {
        const { NodeTracerProvider } = shared('@opentelemetry/sdk-trace-node');
        const { BatchSpanProcessor } = shared('@opentelemetry/sdk-trace-base');
        const { OTLPTraceExporter } = shared('@opentelemetry/exporter-trace-otlp-proto');
        const { resourceFromAttributes } = shared('@opentelemetry/resources');
        const { HttpInstrumentation } = shared('@opentelemetry/instrumentation-http');
        const { UndiciInstrumentation } = shared('@opentelemetry/instrumentation-undici');
        const { RedisInstrumentation } = shared('@opentelemetry/instrumentation-redis');
        const provider = new NodeTracerProvider({
            resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'gateway' }),
            // The batch's delay comes from OTEL_BSP_SCHEDULE_DELAY (qrbench sets 100 ms).
            spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
        });
        provider.register();
        instrumentations.push(new HttpInstrumentation(), new UndiciInstrumentation(), new RedisInstrumentation());
        // What is still batched goes out when the gateway's event loop runs dry.
        process.on('beforeExit', () => provider.forceFlush().catch(() => {}));
    }
    registerInstrumentations({ instrumentations });
}

register(process.env);
