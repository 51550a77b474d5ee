// Preloaded into every test worker (vitest setupFiles) and every child process the tests start
// (NODE_OPTIONS=--import). Tests and tools may only ever talk to loopback: several SDK defaults
// reach for cloud metadata services (169.254.169.254) or public endpoints, and some of them swallow
// the connection error. So the guard both throws and records the attempt, and the vitest hook in
// ./vitest-hooks.mjs fails the test that made it.
import net from 'node:net';

const violations = (globalThis.__fieldsealLoopbackViolations ??= []);

/** True for hosts on this machine: 127.0.0.0/8, ::1, localhost and *.localhost. */
export function isLoopbackHost(host) {
  if (host === undefined || host === null || host === '') return true; // Node's default is localhost
  let h = String(host).toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('::ffff:')) h = h.slice(7);
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function targetOf(args) {
  let first = args[0];
  if (Array.isArray(first)) first = first[0]; // net.connect passes pre-normalized [options, cb]
  if (first !== null && typeof first === 'object') {
    if (first.path !== undefined) return { unix: true };
    return { host: first.host ?? first.hostname, port: first.port };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { unix: true }; // IPC path
  return { host: typeof args[1] === 'string' ? args[1] : undefined, port: first };
}

if (!net.Socket.prototype.__fieldsealGuarded) {
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const target = targetOf(args);
    if (!target.unix && !isLoopbackHost(target.host)) {
      const message = `loopback guard: refused a connection to ${target.host}:${target.port} (tests may only reach 127.0.0.1 / ::1)`;
      violations.push(message);
      if (process.env.FIELDSEAL_GUARD_VERBOSE) process.stderr.write(message + '\n');
      throw new Error(message);
    }
    return original.apply(this, args);
  };
  Object.defineProperty(net.Socket.prototype, '__fieldsealGuarded', { value: true });
}

export function takeViolations() {
  return violations.splice(0, violations.length);
}
