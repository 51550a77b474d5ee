import type { KeyAccessEvent } from '@fieldseal/core';

/** The parts of `@opentelemetry/api` the hook uses. */
interface OtelApi {
  trace: { getTracer(name: string): { startSpan(name: string, options?: { startTime?: number; attributes?: Record<string, string | number | boolean | string[]> }): { setStatus(s: { code: number; message?: string }): void; end(endTime?: number): void } } };
  metrics: { getMeter(name: string): { createCounter(name: string, o?: { description?: string }): { add(n: number, a?: Record<string, string>): void }; createHistogram(name: string, o?: { description?: string; unit?: string }): { record(n: number, a?: Record<string, string>): void } } };
  SpanStatusCode: { OK: number; ERROR: number };
}

/**
 * An audit hook that turns every {@link KeyAccessEvent} into an OpenTelemetry span
 * (`fieldseal.<operation>`) and metrics (`fieldseal.key_access` counter,
 * `fieldseal.key_access.duration` histogram in ms), through `@opentelemetry/api` — an optional peer
 * dependency: when it is not installed, the hook does nothing. Attributes carry the keyring, key
 * ids, context key names, outcome and error code; context values only where the keyring's audit
 * options allowed them.
 *
 * Importable from `@fieldseal/keystore`.
 *
 * @example
 * ```ts
 * import { createOtelAuditHook } from '@fieldseal/keystore';
 * const onEvent = await createOtelAuditHook();
 * const keyring = new HierarchicalKeyring({ store, kek, branchKeyId: { contextKey: 'tenant' }, audit: { onEvent, contextValues: ['tenant'] } });
 * ```
 */
export async function createOtelAuditHook(api?: unknown): Promise<(event: KeyAccessEvent) => void> {
  let otel = api as OtelApi | undefined;
  if (otel === undefined) {
    try {
      otel = (await import('@opentelemetry/api' as string)) as OtelApi;
    } catch {
      return () => undefined;
    }
  }
  const tracer = otel.trace.getTracer('@fieldseal/keystore');
  const meter = otel.metrics.getMeter('@fieldseal/keystore');
  const counter = meter.createCounter('fieldseal.key_access', { description: 'Key accesses (wrap, unwrap, branch-key load and administration)' });
  const duration = meter.createHistogram('fieldseal.key_access.duration', { description: 'Duration of key accesses', unit: 'ms' });
  const { SpanStatusCode } = otel;
  return (event) => {
    const end = Date.now();
    const attributes: Record<string, string | number | boolean | string[]> = {
      'fieldseal.operation': event.operation,
      'fieldseal.keyring': event.keyring,
      'fieldseal.key_ids': [...event.keyIds],
      'fieldseal.context_keys': [...event.contextKeys],
      'fieldseal.outcome': event.outcome,
      ...(event.errorCode ? { 'fieldseal.error_code': event.errorCode } : {}),
      ...(event.cached !== undefined ? { 'fieldseal.cached': event.cached } : {}),
      ...Object.fromEntries(Object.entries(event.context ?? {}).map(([k, v]) => [`fieldseal.context.${k}`, v])),
    };
    const span = tracer.startSpan(`fieldseal.${event.operation}`, { startTime: end - event.durationMs, attributes });
    span.setStatus(event.outcome === 'success' ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, ...(event.errorCode ? { message: event.errorCode } : {}) });
    span.end(end);
    const metricAttributes = { operation: event.operation, keyring: event.keyring, outcome: event.outcome };
    counter.add(1, metricAttributes);
    duration.record(event.durationMs, metricAttributes);
  };
}
