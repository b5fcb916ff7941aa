// run.mjs: mcpauth's benchmarks (bench/run starts it; see bench/README.md).
// On 127.0.0.1 it starts, each with the same number of request-serving
// processes (--procs, default 4):
//   - mcpauth behind lighttpd (apache-examples/lighttpd-mcpauth.conf with
//     max-procs = procs), and behind Apache + mod_fcgid for one scenario;
//   - bench/trivial.c behind lighttpd (and Apache): the stack's ceiling;
//   - node oidc-provider v9 (peer.mjs), as one process and as a cluster of
//     procs workers;
// loads each with wrk for the same duration and connections, and prints
// requests/s, p50 and p99 side by side, the ratios, CPU time per request,
// resident memory per process before and after --rss-requests token
// requests, plain-CGI start-up times, and PASS/MISS against the targets of
// issue 7.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  Instance, LIBEXECDIR, PREFIX, SERVICE_USER, freePort,
} from '../tests/integration/lib/harness.mjs';
import { FormBrowser, addUser, authorizeUrl } from '../tests/integration/lib/flow.mjs';
import {
  Peer, WebServer, memKb, sumCpuUs, tmpDir,
} from './lib/servers.mjs';
import {
  clientKey, mintCodes, mintRefreshTokens, randomToken, sha256, sqliteRows, writeAssertions,
} from './lib/pools.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const WRK = path.join(BENCH, 'wrk');

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', short: 'd', default: '10' },
    connections: { type: 'string', short: 'c', default: '16' },
    threads: { type: 'string', short: 't', default: '1' },
    procs: { type: 'string', short: 'p', default: '4' },
    warmup: { type: 'string', default: '2' },
    only: { type: 'string' },
    'no-apache': { type: 'boolean', default: false },
    'no-cluster': { type: 'boolean', default: false },
    'apache-connections': { type: 'string' },
    'rss-requests': { type: 'string', default: '100000' },
    'cgi-runs': { type: 'string', default: '200' },
    profile: { type: 'boolean', default: false },
    callgrind: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write(`usage: bench/run [options]
  -d, --duration S        seconds per measured run (10)
  -c, --connections N     wrk connections, the same for every contender (16)
  -t, --threads N         wrk threads (1)
  -p, --procs N           FastCGI processes per program, and peer cluster workers (4)
      --warmup S          seconds of warm-up per contender (2)
      --only LIST         scenarios: cc_basic,cc_pkjwt,discovery,register,code,refresh,apache
      --no-apache         skip the Apache + mod_fcgid runs
      --no-cluster        skip the peer's cluster (N processes) runs
      --apache-connections N   wrk connections for Apache (default: --procs; see README)
      --rss-requests N    token requests between the two memory readings (100000)
      --cgi-runs N        runs per program for the plain-CGI start-up times (200)
      --profile           perf record (DWARF call graphs) the token processes during an
                          extra client_credentials run, print the hotspots and strace -c
      --callgrind         valgrind --tool=callgrind one plain-CGI client_credentials
                          request of mcpauth-token and print where its instructions go
      --keep              keep the temp directory (instance, logs, pools)
      --json FILE         also write every number to FILE
`);
  process.exit(0);
}
const num = (k) => {
  const n = Number(opt[k]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k} must be a positive number, not ${opt[k]}`);
  return n;
};
const DURATION = num('duration');
const CONNS = num('connections');
const THREADS = num('threads');
const PROCS = num('procs');
const WARMUP = num('warmup');
const APACHE_CONNS = opt['apache-connections'] ? num('apache-connections') : PROCS;
const RSS_REQUESTS = num('rss-requests');
const CGI_RUNS = num('cgi-runs');
const ALL = ['cc_basic', 'cc_pkjwt', 'discovery', 'register', 'code', 'refresh', 'apache'];
const ONLY = (opt.only ? opt.only.split(',').map((s) => s.trim()) : ALL)
  .filter((s) => !(opt['no-apache'] && s === 'apache'));
for (const s of ONLY) if (!ALL.includes(s)) throw new Error(`--only: unknown scenario ${s}`);

const REDIRECT = 'http://127.0.0.1:6276/oauth/callback';
const VERIFIER = randomToken(32);
const CHALLENGE = sha256(VERIFIER);
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SCOPE = 'mcp:tools';

const say = (s) => process.stderr.write(`==> ${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const form = (o) => new URLSearchParams(o).toString().replace(/%40%40POOL%40%40/g, '@@POOL@@');
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

// --- the machine --------------------------------------------------------------------

function cpuTimes() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return { busy: f.reduce((a, b) => a + b, 0) - idle, total: f.reduce((a, b) => a + b, 0) };
}
const busyPct = (a, b) => (100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total);

async function quietCheck() {
  const a = cpuTimes();
  await sleep(1000);
  const pct = busyPct(a, cpuTimes());
  if (pct > 10) {
    say(`warning: the machine is ${pct.toFixed(0)}% busy before the benchmark starts: the numbers will be low and noisy`);
  }
  return pct;
}

// --- request specs (wrk/common.lua reads them) ------------------------------------------

let RUN_DIR;
let INST_DIR = '(no instance)';
let specN = 0;
function specFile({ method, path: p, headers = {}, body = '' }) {
  const f = path.join(RUN_DIR, `spec-${++specN}.txt`);
  const head = [`${method} ${p}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\n');
  fs.writeFileSync(f, `${head}\n\n${body}`);
  return f;
}

// One request as a spec says (pool value filled in), with fetch.
async function probe(origin, spec, value) {
  const body = spec.body ? spec.body.replace('@@POOL@@', encodeURIComponent(value ?? '')) : undefined;
  const res = await fetch(origin + spec.path, { method: spec.method, headers: spec.headers, body, redirect: 'manual' });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, text, json };
}

// Checks the answer to one request before a run: the run would measure
// errors otherwise. resource null: the trivial program (200 and JSON).
function checkProbe(what, scenario, r, resource) {
  const want = scenario === 'register' && resource ? 201 : 200;
  const fail = (why) => { throw new Error(`${what} ${scenario}: ${why}: ${r.status} ${r.text.slice(0, 400)}`); };
  if (r.status !== want) fail(`status ${r.status}, not ${want}`);
  if (!r.json) fail('not JSON');
  if (!resource) return;
  if (scenario === 'discovery' && !r.json.issuer) fail('no issuer');
  if (scenario === 'register' && !r.json.client_id) fail('no client_id');
  if (['cc_basic', 'cc_pkjwt', 'code', 'refresh'].includes(scenario) && resource) {
    const at = r.json.access_token;
    if (typeof at !== 'string') fail('no access_token');
    const [h, p] = at.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url')));
    if (h.alg !== 'ES256' || h.typ !== 'at+jwt') fail(`header ${JSON.stringify(h)}`);
    if ([].concat(p.aud)[0] !== resource) fail(`aud ${p.aud}`);
    if (['code', 'refresh'].includes(scenario) && typeof r.json.refresh_token !== 'string') fail('no refresh_token');
  }
}

// --- wrk ---------------------------------------------------------------------------------

function runWrk(origin, spec, { duration = DURATION, connections = CONNS, pool = null } = {}) {
  const file = specFile(spec);
  const args = [`-t${THREADS}`, `-c${connections}`, `-d${duration}s`, '--timeout', '10s',
    '-s', path.join(WRK, pool ? 'pool.lua' : 'static.lua'), origin, '--', file];
  if (pool) args.push(pool, String(THREADS));
  return new Promise((resolve, reject) => {
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('exit', (code) => {
      const m = /^BENCH_RESULT (.*)$/m.exec(out);
      if (code !== 0 || !m) reject(new Error(`wrk ${args.join(' ')}: exit ${code}\n${out}`));
      else resolve(JSON.parse(m[1]));
    });
  });
}

// --- contenders ------------------------------------------------------------------------

// A contender: name, origin, the processes that run the scenario's program
// (pids(scenario)) and the web server's own (serverPids()), and a request
// spec per scenario; pool scenarios also have makePool(n, file).
const results = {}; // scenario -> contender key -> row
const served = {}; // contender key -> program -> requests so far

const series = []; // mcpauth-token's memory after each run: { served, kb: [VmRSS], anon: [RssAnon] }
let seriesOf = null; // the contender whose token processes the series follows

function record(scenario, key, row) {
  (results[scenario] ??= {})[key] = row;
  const prog = row.program;
  ((served[key] ??= {})[prog] ??= 0);
  served[key][prog] += row.requests;
  if (seriesOf?.key === key && prog === 'mcpauth-token') memoryPoint();
}

function memoryPoint() {
  const m = seriesOf.pidsOf('mcpauth-token').map(memKb).filter(Boolean);
  series.push({ served: served[seriesOf.key]?.['mcpauth-token'] ?? 0, kb: m.map((x) => x.VmRSS), anon: m.map((x) => x.RssAnon) });
}

async function measure(c, scenario, { connections = CONNS, poolSize } = {}) {
  const spec = c.specs[scenario];
  let pool = null;
  let probeValue;
  if (spec.body?.includes('@@POOL@@')) {
    pool = path.join(RUN_DIR, `pool-${c.key}-${scenario}.txt`);
    const t0 = Date.now();
    await c.makePool[scenario](poolSize + 1, pool);
    const lines = fs.readFileSync(pool, 'utf8').trimEnd().split('\n');
    probeValue = lines.pop();
    fs.writeFileSync(pool, `${lines.join('\n')}\n`);
    say(`${c.name}: ${scenario}: ${lines.length} single-use values made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  checkProbe(c.name, scenario, await probe(c.origin, spec, probeValue), c.resource);
  const pids = c.pids(scenario);
  const spids = c.serverPids();
  const cpu0 = sumCpuUs(pids);
  const scpu0 = sumCpuUs(spids);
  const m0 = cpuTimes();
  say(`${c.name}: ${scenario}: ${DURATION} s, ${connections} connections`);
  const w = await runWrk(c.origin, spec, { connections, pool });
  const m1 = cpuTimes();
  const cpu = sumCpuUs(pids) - cpu0;
  const scpu = sumCpuUs(spids) - scpu0;
  const ok = w.requests - w.status_errors;
  const row = {
    contender: c.name,
    program: c.program(scenario),
    requests: w.requests,
    rps: w.requests / (w.duration_us / 1e6),
    p50_ms: w.p50_us / 1000,
    p90_ms: w.p90_us / 1000,
    p99_ms: w.p99_us / 1000,
    max_ms: w.max_us / 1000,
    errors: w.status_errors + w.connect_errors + w.read_errors + w.write_errors + w.timeouts,
    wrk: w,
    cpu_us_per_req: ok > 0 ? cpu / ok : null,
    server_cpu_us_per_req: ok > 0 ? scpu / ok : null,
    machine_busy_pct: busyPct(m0, m1),
    processes: pids.length,
    connections,
    pool_size: pool ? poolSize : null,
    exhausted: w.exhausted_threads > 0,
  };
  if (row.errors > 0) say(`${c.name}: ${scenario}: ${row.errors} failed requests (${JSON.stringify(w)})`);
  return row;
}

// Runs a scenario for a contender and records it; a pool scenario whose
// pool ran out is run again with a pool twice as large (the run is void).
async function bench(c, scenario, o = {}) {
  let poolSize = o.poolSize;
  for (let attempt = 0; ; attempt++) {
    const row = await measure(c, scenario, { ...o, poolSize });
    if (!row.exhausted || attempt === 2) {
      record(scenario, c.key, row);
      return row;
    }
    poolSize *= 2;
    say(`${c.name}: ${scenario}: the pool ran out: again with ${poolSize}`);
  }
}

// The pool a run needs: what the client_credentials rate predicts for the
// run, with room to spare.
function poolFor(c) {
  const rps = results.cc_basic?.[c.key]?.rps ?? 5000;
  return Math.max(2000, Math.ceil(rps * (DURATION + 1) * 1.6));
}

async function warmUp(c) {
  say(`${c.name}: warm-up, ${WARMUP} s`);
  const w = await runWrk(c.origin, c.specs.cc_basic, { duration: WARMUP, connections: c.connections ?? CONNS });
  ((served[c.key] ??= {})[c.program('cc_basic')] ??= 0);
  served[c.key][c.program('cc_basic')] += w.requests;
  for (const s of ['discovery', 'register']) {
    if (!c.specs[s]) continue;
    const x = await runWrk(c.origin, c.specs[s], { duration: 1, connections: c.connections ?? CONNS });
    ((served[c.key] ??= {})[c.program(s)] ??= 0);
    served[c.key][c.program(s)] += x.requests;
  }
}

const memory = {}; // contender key -> program -> { before: [kB], after: [kB], requests }
function rssSnapshot(c, when) {
  for (const prog of c.programs) {
    const pids = c.pidsOf(prog);
    const m = ((memory[c.key] ??= {})[prog] ??= { name: c.name });
    m[when] = pids.map((p) => {
      const k = memKb(p);
      return { pid: p, kb: k?.VmRSS ?? null, anon: k?.RssAnon, file: k?.RssFile, shmem: k?.RssShmem, pss: k?.Pss };
    });
    m[`${when}_served`] = served[c.key]?.[prog] ?? 0;
  }
}

// --- plain CGI -----------------------------------------------------------------------------

// Milliseconds per run of program as plain CGI (N runs in a shell loop, as
// the service user), and its first answer's status line.
function cgiTime(program, env, input = '') {
  const inFile = path.join(RUN_DIR, `cgi-in-${path.basename(program)}-${crypto.randomBytes(4).toString('hex')}`);
  fs.writeFileSync(inFile, input, { mode: 0o644 });
  const fullEnv = { PATH: '/usr/bin:/bin', LANG: 'C', P: program, IN: inFile, N: String(CGI_RUNS), ...env };
  const wrap = (script) => (SERVICE_USER
    ? ['setpriv', ['--reuid', SERVICE_USER.name, '--regid', SERVICE_USER.name, '--clear-groups', 'bash', '-c', script]]
    : ['bash', ['-c', script]]);
  const [cmd1, args1] = wrap('"$P" <"$IN" 2>/dev/null | head -c 200');
  const first = spawnSync(cmd1, args1, { env: fullEnv, encoding: 'utf8' });
  const status = (/^Status: (.*)$/m.exec(first.stdout || '') || [, '?'])[1].trim();
  const [cmd, args] = wrap('for ((i = 0; i < N; i++)); do "$P" <"$IN" >/dev/null 2>&1; done');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: fullEnv });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`CGI loop of ${program}: exit ${r.status} ${r.stderr}`);
  return { ms_per_run: ms / CGI_RUNS, status };
}

function cgiEnv(inst, { method = 'GET', uri, headers = {}, body = '' }) {
  const env = {
    GATEWAY_INTERFACE: 'CGI/1.1', SERVER_PROTOCOL: 'HTTP/1.1', SERVER_SOFTWARE: 'mcpauth-bench',
    SERVER_NAME: '127.0.0.1', SERVER_PORT: '80', REMOTE_ADDR: '127.0.0.1',
    REQUEST_METHOD: method, REQUEST_URI: uri, SCRIPT_NAME: uri.split('?')[0],
    QUERY_STRING: uri.split('?')[1] || '', MCPAUTH_CONFIG: inst.conf,
  };
  if (body) env.CONTENT_LENGTH = String(Buffer.byteLength(body));
  for (const [k, v] of Object.entries(headers)) {
    env[k.toLowerCase() === 'content-type' ? 'CONTENT_TYPE' : `HTTP_${k.toUpperCase().replace(/-/g, '_')}`] = v;
  }
  return env;
}

// --- profile ------------------------------------------------------------------------------

async function profile(c) {
  const pids = c.pids('cc_basic');
  const data = path.join(RUN_DIR, 'perf.data');
  const secs = Math.max(3, DURATION - 2);
  const hasStrace = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).status === 0;
  say(`profile: perf record -g on ${pids.length} mcpauth-token processes for ${secs} s of a client_credentials run` +
    (hasStrace ? ', then strace -c on one of them for 3 s' : ''));
  const run = runWrk(c.origin, c.specs.cc_basic, { duration: secs + (hasStrace ? 6 : 2) });
  await sleep(1000);
  // DWARF unwinding: the distribution's libraries have no frame pointers,
  // and the inclusive view below needs whole call chains.
  const perf = spawnSync('perf', ['record', '-F', '499', '--call-graph', 'dwarf,16384', '-o', data, '-p', pids.join(','),
    '--', 'sleep', String(secs)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let strace = null;
  if (hasStrace) {
    // Where the time off the CPU goes: the system calls of one process.
    const s = spawnSync('timeout', ['3', 'strace', '-c', '-p', String(pids[0])], { encoding: 'utf8' });
    strace = s.stderr.split('\n').filter((l) => !/^strace: Process/.test(l)).join('\n');
  }
  const w = await run;
  if (perf.status !== 0) return { error: `perf record: ${perf.stderr}` };
  const report = (sort) => spawnSync('perf', ['report', '-i', data, '--stdio', '--no-children', '-g', 'none',
    '--percent-limit', '0.7', '--sort', sort], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout
    .split('\n').filter((l) => l.trim() && !l.startsWith('#')).slice(0, 30).join('\n');
  // Inclusive: the share of samples whose call chain passes through each
  // function (of mcpauth-token, or the library calls it makes), counted
  // once per sample, from perf script.
  const own = inclusive(data);
  return { data, rps: w.requests / (w.duration_us / 1e6), dso: report('dso'), sym: report('dso,sym'), own, strace };
}

function inclusive(data) {
  const r = spawnSync('perf', ['script', '-i', data, '-F', 'ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) return `perf script: ${r.stderr.slice(0, 500)}`;
  const counts = new Map();
  let n = 0;
  for (const sample of r.stdout.split(/\n\s*\n/)) {
    // "(deleted)": the program was reinstalled while it ran.
    const frames = sample.split('\n').map((l) => /^\s*[0-9a-f]+ (.+?) \((.*?)(?: \(deleted\))?\)\s*$/.exec(l))
      .filter(Boolean);
    if (!frames.length) continue;
    n++;
    const seen = new Set();
    // The caller's side of each library boundary: mcpauth's functions and
    // the first function entered in each library from mcpauth.
    for (let i = frames.length - 1; i >= 0; i--) {
      const [, sym, dso] = frames[i];
      const fromOwn = i + 1 < frames.length && frames[i + 1][2].endsWith('/mcpauth-token');
      if (!dso.endsWith('/mcpauth-token') && !fromOwn) continue;
      const name = `${sym.replace(/\+0x[0-9a-f]+$/, '')} (${path.basename(dso)})`;
      if (!seen.has(name)) { seen.add(name); counts.set(name, (counts.get(name) || 0) + 1); }
    }
  }
  const skip = /^(_start|main|__libc_start|mcpauth_serve|\(below main\))/;
  return [...counts].filter(([k]) => !skip.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 30)
    .map(([k, v]) => `${(100 * v / n).toFixed(1).padStart(6)}%  ${k}`).join('\n');
}

// One plain-CGI run of program under callgrind: the functions with the
// most instructions, inclusive and exclusive.
function callgrind(program, env, input) {
  const out = path.join(RUN_DIR, 'callgrind.out');
  const inFile = path.join(RUN_DIR, 'callgrind-in');
  fs.writeFileSync(inFile, input, { mode: 0o644 });
  fs.writeFileSync(out, '');
  if (SERVICE_USER) fs.chownSync(out, SERVICE_USER.uid, SERVICE_USER.gid);
  const script = `valgrind --tool=callgrind --callgrind-out-file="${out}" "${program}" <"${inFile}" >/dev/null`;
  const [cmd, args] = SERVICE_USER
    ? ['setpriv', ['--reuid', SERVICE_USER.name, '--regid', SERVICE_USER.name, '--clear-groups', 'bash', '-c', script]]
    : ['bash', ['-c', script]];
  const r = spawnSync(cmd, args, { env: { PATH: '/usr/bin:/bin', LANG: 'C', ...env }, encoding: 'utf8' });
  if (r.status !== 0) return { error: `valgrind: exit ${r.status}: ${r.stderr.slice(-2000)}` };
  const total = (/Collected : (\d+)/.exec(r.stderr) || [, '?'])[1];
  const annotate = (inclusive) => spawnSync('callgrind_annotate', [`--inclusive=${inclusive ? 'yes' : 'no'}`, out],
    { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout.split('\n')
    .filter((l) => /^\s*[\d,]+ \(/.test(l)).slice(0, 25).join('\n');
  return { file: out, total, inclusive: annotate(true), exclusive: annotate(false) };
}

// --- output ----------------------------------------------------------------------------------

const f0 = (x) => (x == null || !Number.isFinite(x) ? '-' : Math.round(x).toLocaleString('en-US'));
const f2 = (x) => (x == null || !Number.isFinite(x) ? '-' : x.toFixed(2));
const pct = (x) => (x == null || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(0)}%`);
const ratio = (a, b) => (a != null && b ? a / b : null);

function table(head, rows) {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((x, i) => (i === 0 ? String(x).padEnd(w[i]) : String(x).padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

// --- main --------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const idle = await quietCheck();
  RUN_DIR = tmpDir('mcpauth-bench-');
  fs.chmodSync(RUN_DIR, 0o755);
  const cleanup = [];
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    for (const f of cleanup.reverse()) await f().catch(() => {});
    if (!opt.keep) fs.rmSync(RUN_DIR, { recursive: true, force: true });
  };
  process.on('SIGINT', () => { stopAll().then(() => process.exit(130)); });
  try {
    await benchAll(cleanup, idle);
  } finally {
    await stopAll();
    say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s${opt.keep ? `; kept ${RUN_DIR} and ${INST_DIR}` : ''}`);
  }
}

async function benchAll(cleanup, idlePct) {
  // The trivial program, built here (bench/run checked for gcc and libfcgi).
  const bin = path.join(RUN_DIR, 'bin');
  fs.mkdirSync(bin, { mode: 0o755 });
  const trivialBin = path.join(bin, 'trivial');
  const cc = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', trivialBin, path.join(BENCH, 'trivial.c'), '-lfcgi'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc trivial.c: ${cc.stderr}`);
  fs.chmodSync(trivialBin, 0o755);

  // The mcpauth instance, its machine clients, and a public client.
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const resource = `${origin}/mcp`;
  const inst = new Instance({
    issuer: origin,
    resources: [{ url: resource, name: 'Benchmark MCP server', scopes: ['mcp:tools', 'mcp:resources'] }],
    extra: [
      'client_credentials = yes', 'private_key_jwt = yes',
      // every registration comes from 127.0.0.1: no per-address limit, no cap
      'registration_rate_limit = 0', 'max_dynamic_clients = 0',
    ].join('\n'),
    name: 'mcpauth-bench',
  });
  INST_DIR = inst.dir;
  cleanup.push(async () => { if (!opt.keep) inst.remove(); });
  const addClient = (name, args) => JSON.parse(inst.admin(['client', 'add', name, ...args, '--json'], { check: true }).stdout);
  const mBasic = addClient('bench-basic', ['--grant', 'client_credentials', '--resource', resource, '--scope', SCOPE]);
  const mKey = await clientKey();
  const jwks = path.join(inst.dir, 'bench-jwt.jwks.json');
  fs.writeFileSync(jwks, JSON.stringify({ keys: [mKey.publicJwk] }), { mode: 0o644 });
  inst.chown();
  const mJwt = addClient('bench-jwt', ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks', jwks,
    '--alg', 'ES256', '--resource', resource, '--scope', SCOPE]);

  const mc = WebServer.mcpauth('lighttpd', inst, port, PROCS);
  cleanup.push(() => mc.stop());
  await mc.start();
  const tport = await freePort();
  const triv = WebServer.trivial('lighttpd', RUN_DIR, trivialBin, tport, PROCS);
  cleanup.push(() => triv.stop());
  await triv.start();

  // One real sign-in: a registered public client, a user, the login and
  // consent forms, a code and its exchange. Their rows are what the code
  // and refresh pools copy.
  const regBody = JSON.stringify({
    client_name: 'bench client', application_type: 'native', redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'], scope: SCOPE,
  });
  const reg = await (await fetch(`${origin}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: regBody })).json();
  const password = randomToken(12);
  addUser(inst, 'bench', password);
  const browser = new FormBrowser({ origin });
  const { params } = await browser.authorize(authorizeUrl(origin, {
    clientId: reg.client_id, redirectUri: REDIRECT, challenge: CHALLENGE, state: 'bench', resource, scope: SCOPE,
  }), { username: 'bench', password });
  const templateCode = params.get('code');
  const exchange = await (await fetch(`${origin}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form({ grant_type: 'authorization_code', code: templateCode, code_verifier: VERIFIER, redirect_uri: REDIRECT, client_id: reg.client_id, resource }),
  })).json();
  if (!exchange.refresh_token) throw new Error(`template exchange: ${JSON.stringify(exchange)}`);
  const templateRefresh = exchange.refresh_token;

  // The peer's secrets and keys.
  const asKey = await clientKey();
  const pKey = await clientKey();
  const secrets = {
    signingJwk: asKey.privateJwk,
    basic: { client_id: 'bench-basic', client_secret: randomToken(32) },
    jwt: { client_id: 'bench-jwt', jwks: { keys: [pKey.publicJwk] } },
    public: { client_id: 'bench-public', redirect_uri: REDIRECT },
  };

  // --- the request specs -------------------------------------------------------------
  const formCT = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const tokenSpecs = ({ basicAuth, jwtId, publicId }) => ({
    cc_basic: { method: 'POST', path: '/token', headers: { Authorization: basicAuth, ...formCT },
      body: form({ grant_type: 'client_credentials', resource, scope: SCOPE }) },
    cc_pkjwt: { method: 'POST', path: '/token', headers: formCT,
      body: form({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: '@@POOL@@', resource, scope: SCOPE }) },
    code: { method: 'POST', path: '/token', headers: formCT,
      body: form({ grant_type: 'authorization_code', code: '@@POOL@@', code_verifier: VERIFIER, redirect_uri: REDIRECT, client_id: publicId, resource }) },
    refresh: { method: 'POST', path: '/token', headers: formCT,
      body: form({ grant_type: 'refresh_token', refresh_token: '@@POOL@@', client_id: publicId, resource }) },
  });
  const regSpec = (p) => ({ method: 'POST', path: p, headers: { 'Content-Type': 'application/json' }, body: regBody });

  const mcpauthSpecs = {
    ...tokenSpecs({ basicAuth: basic(mBasic.client_id, mBasic.client_secret), jwtId: mJwt.client_id, publicId: reg.client_id }),
    discovery: { method: 'GET', path: '/.well-known/oauth-authorization-server' },
    register: regSpec('/register'),
  };
  const mcpauthPools = {
    cc_pkjwt: (n, file) => writeAssertions(file, n, { key: mKey, clientId: mJwt.client_id, aud: `${origin}/token` }),
    code: async (n, file) => mintCodes(inst, file, n, sha256(templateCode)),
    refresh: async (n, file) => mintRefreshTokens(inst, file, n, sha256(templateRefresh)),
  };
  const PROGRAM = { cc_basic: 'mcpauth-token', cc_pkjwt: 'mcpauth-token', code: 'mcpauth-token', refresh: 'mcpauth-token',
    discovery: 'mcpauth-discovery', register: 'mcpauth-register' };
  const mcpauthContender = (key, server, connections) => ({
    key, name: server.name, origin, resource, server, connections,
    specs: mcpauthSpecs, makePool: mcpauthPools,
    program: (s) => PROGRAM[s],
    programs: ['mcpauth-token', 'mcpauth-discovery', 'mcpauth-register'],
    pids: (s) => server.fcgiPids(PROGRAM[s]),
    pidsOf: (prog) => server.fcgiPids(prog),
    serverPids: () => server.serverPids(),
  });
  const M = mcpauthContender('mcpauth', mc);

  // The ceiling: the same requests to the trivial program.
  const trivialContender = (key, server) => ({
    key, name: server.name, origin: server.origin, resource: null, server,
    specs: { cc_basic: mcpauthSpecs.cc_basic, discovery: mcpauthSpecs.discovery, register: mcpauthSpecs.register },
    program: () => 'trivial', programs: ['trivial'],
    pids: () => server.fcgiPids('trivial'), pidsOf: () => server.fcgiPids('trivial'),
    serverPids: () => server.serverPids(),
  });
  const T = trivialContender('trivial', triv);

  const peerContender = async (workers) => {
    const pport = await freePort();
    const issuer = `http://127.0.0.1:${pport}`;
    const peer = new Peer({ port: pport, issuer, resource, workers, dir: path.join(RUN_DIR, `peer-${workers}`), secrets });
    cleanup.push(() => peer.stop());
    await peer.start();
    const specs = {
      ...tokenSpecs({ basicAuth: basic(secrets.basic.client_id, secrets.basic.client_secret), jwtId: secrets.jwt.client_id, publicId: secrets.public.client_id }),
      discovery: { method: 'GET', path: '/.well-known/openid-configuration' },
      register: regSpec('/reg'),
    };
    if (workers > 1) { delete specs.code; delete specs.refresh; }
    return {
      key: workers === 1 ? 'peer1' : 'peerN', name: peer.name, origin: issuer, resource, server: peer, specs,
      makePool: {
        cc_pkjwt: (n, file) => writeAssertions(file, n, { key: pKey, clientId: secrets.jwt.client_id, aud: `${issuer}/token` }),
        code: (n, file) => peer.mint('code', n, file, CHALLENGE),
        refresh: (n, file) => peer.mint('refresh', n, file),
      },
      program: () => 'node', programs: ['node'],
      pids: () => peer.fcgiPids(), pidsOf: () => peer.fcgiPids(), serverPids: () => peer.serverPids(),
      startupMs: peer.startupMs,
    };
  };
  const P1 = await peerContender(1);
  const PN = !opt['no-cluster'] && PROCS > 1 ? await peerContender(PROCS) : null;
  const contenders = [M, T, P1, PN].filter(Boolean);

  // --- warm-up, then the scenarios, scenario by scenario ---------------------------------
  for (const c of contenders) await warmUp(c);
  for (const c of contenders) rssSnapshot(c, 'before');
  seriesOf = M;
  memoryPoint();

  const tokenScenarios = ['cc_basic', 'cc_pkjwt', 'discovery', 'register', 'code', 'refresh'];
  for (const s of tokenScenarios) {
    if (!ONLY.includes(s)) continue;
    for (const c of contenders) {
      if (!c.specs[s]) continue;
      await bench(c, s, { poolSize: poolFor(c) });
    }
  }

  // Memory: top up the token program's requests to --rss-requests.
  const tokenServed = () => served.mcpauth?.['mcpauth-token'] ?? 0;
  if (tokenServed() < RSS_REQUESTS) {
    const rate = results.cc_basic?.mcpauth?.rps ?? 2000;
    const secs = Math.min(300, Math.ceil(((RSS_REQUESTS - tokenServed()) / rate) * 1.2) + 1);
    say(`memory: ${tokenServed()} token requests so far; ${secs} s more client_credentials to pass ${RSS_REQUESTS}`);
    const w = await runWrk(M.origin, M.specs.cc_basic, { duration: secs });
    served.mcpauth['mcpauth-token'] += w.requests;
    memoryPoint();
  }
  seriesOf = null;
  for (const c of contenders) rssSnapshot(c, 'after');

  // Apache + mod_fcgid: client_credentials, mcpauth and the trivial program.
  if (ONLY.includes('apache')) {
    const aport = await freePort();
    // The same instance: its issuer names lighttpd's port, which the token
    // endpoint does not check for client_credentials with a secret.
    const ap = WebServer.mcpauth('apache', inst, aport, PROCS);
    cleanup.push(() => ap.stop());
    await ap.start();
    const A = { ...mcpauthContender('mcpauth_apache', ap, APACHE_CONNS), origin: ap.origin };
    const tap = WebServer.trivial('apache', RUN_DIR, trivialBin, await freePort(), PROCS);
    cleanup.push(() => tap.stop());
    await tap.start();
    const TA = { ...trivialContender('trivial_apache', tap), connections: APACHE_CONNS };
    for (const c of [A, TA]) {
      await warmUp(c);
      // mod_fcgid starts processes only when requests wait for one: load
      // it with twice the connections until all procs are there.
      for (let i = 0; i < 5 && c.pids('cc_basic').length < PROCS; i++) {
        const w = await runWrk(c.origin, c.specs.cc_basic, { duration: 2, connections: 2 * PROCS });
        served[c.key][c.program('cc_basic')] += w.requests;
      }
      await bench(c, 'cc_basic', { connections: APACHE_CONNS });
      const r = results.cc_basic[c.key];
      (results.apache ??= {})[c.key] = r;
      delete results.cc_basic[c.key];
    }
    await ap.stop();
    await tap.stop();
  }

  // Plain CGI: each program run once per request, N times.
  say(`plain CGI: ${CGI_RUNS} runs per program`);
  const prog = (p) => path.join(LIBEXECDIR, p);
  const ccBody = mcpauthSpecs.cc_basic.body;
  const cgi = [
    ['/bin/true (the loop itself)', '/bin/true', {}, ''],
    ['trivial (GET)', trivialBin, { REQUEST_METHOD: 'GET' }, ''],
    ['mcpauth-discovery: GET metadata', prog('mcpauth-discovery'), cgiEnv(inst, { uri: '/.well-known/oauth-authorization-server' }), ''],
    ['mcpauth-register: GET /register (405)', prog('mcpauth-register'), cgiEnv(inst, { uri: '/register' }), ''],
    ['mcpauth-authorize: GET /static/style.css', prog('mcpauth-authorize'), cgiEnv(inst, { uri: '/static/style.css' }), ''],
    ['mcpauth-token: GET /token (405)', prog('mcpauth-token'), cgiEnv(inst, { uri: '/token' }), ''],
    ['mcpauth-token: client_credentials', prog('mcpauth-token'),
      cgiEnv(inst, { method: 'POST', uri: '/token', headers: mcpauthSpecs.cc_basic.headers, body: ccBody }), ccBody],
  ].map(([what, p, env, input]) => ({ what, ...cgiTime(p, env, input) }));

  let prof = null;
  if (opt.profile) prof = await profile(M);
  let cg = null;
  if (opt.callgrind) {
    say('callgrind: one plain-CGI client_credentials request of mcpauth-token');
    cg = callgrind(prog('mcpauth-token'),
      cgiEnv(inst, { method: 'POST', uri: '/token', headers: mcpauthSpecs.cc_basic.headers, body: ccBody }), ccBody);
  }

  const db = sqliteRows(inst.db, 'SELECT (SELECT count(*) FROM access_tokens) AS access_tokens, ' +
    '(SELECT count(*) FROM refresh_tokens) AS refresh_tokens, (SELECT count(*) FROM clients) AS clients, ' +
    '(SELECT count(*) FROM assertion_jtis) AS assertion_jtis')[0];
  const dbSize = ['', '-wal'].map((s) => { try { return fs.statSync(inst.db + s).size; } catch { return 0; } });

  report({ contenders, cgi, prof, cg, db, dbSize, idlePct, peerStartup: { 1: P1.startupMs, [PROCS]: PN?.startupMs } });
}

function report({ contenders, cgi, prof, cg, db, dbSize, idlePct, peerStartup }) {
  const out = [];
  const p = (s = '') => out.push(s);
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (/^model name\s*:\s*(.*)$/m.exec(cpuinfo) || [, '?'])[1];
  p(`mcpauth benchmarks: ${new Date().toISOString()}`);
  p(`machine: ${os.cpus().length} CPUs (${model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${idlePct.toFixed(0)}% busy before the start`);
  p(`load: wrk -t${THREADS} -c${CONNS} -d${DURATION}s (Apache: -c${APACHE_CONNS}); ${PROCS} FastCGI processes per program, ${PROCS} peer workers; everything on this machine, wrk included`);
  p(`mcpauth: ${process.env.MCPAUTH_BENCH_BUILT_FROM || PREFIX}; peer: oidc-provider ${JSON.parse(fs.readFileSync(path.join(BENCH, 'node_modules/oidc-provider/package.json'), 'utf8')).version}, node ${process.version}`);
  p();
  const LABEL = {
    cc_basic: 'client_credentials, client_secret_basic',
    cc_pkjwt: 'client_credentials, private_key_jwt (ES256)',
    discovery: 'discovery metadata (GET)',
    register: 'registration (POST /register)',
    code: 'authorization code exchange',
    refresh: 'refresh_token (rotating)',
    apache: 'client_credentials, client_secret_basic, Apache + mod_fcgid',
  };
  const rows = [];
  for (const s of Object.keys(LABEL)) {
    Object.values(results[s] || {}).forEach((x, i) => {
      rows.push([i === 0 ? LABEL[s] : '', x.contender, String(x.processes), f0(x.rps), f2(x.p50_ms), f2(x.p99_ms),
        `${x.errors}${x.exhausted ? ' (pool ran out: void)' : ''}`,
        f0(x.cpu_us_per_req), f0(x.server_cpu_us_per_req), `${f0(x.machine_busy_pct)}%`,
        x.pool_size ? f0(x.pool_size) : '-']);
    });
  }
  p(table(['scenario', 'contender', 'procs', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'CPU µs/req', 'server CPU µs/req', 'machine busy', 'pool'], rows));
  p('CPU µs/req: utime+stime of the processes that ran the requests (the FastCGI program; node for the peer) over the');
  p('successful requests; server CPU: lighttpd or Apache itself (the peer cluster: its primary). wrk runs on the same 2 cores.');
  p();

  // Ratios.
  const r = (s, k) => results[s]?.[k];
  const rr = [];
  for (const s of ['cc_basic', 'cc_pkjwt', 'discovery', 'register', 'code', 'refresh']) {
    const m = r(s, 'mcpauth');
    if (!m) continue;
    const t = r(s, 'trivial') ?? r('cc_basic', 'trivial');
    rr.push([LABEL[s], f2(ratio(m.rps, r(s, 'peer1')?.rps)), f2(ratio(m.rps, r(s, 'peerN')?.rps)),
      pct(ratio(m.rps, t?.rps)), f2(ratio(m.p99_ms, t?.p99_ms)), f2(ratio(m.p99_ms, r(s, 'peerN')?.p99_ms ?? r(s, 'peer1')?.p99_ms))]);
  }
  if (r('apache', 'mcpauth_apache')) {
    rr.push([LABEL.apache, '-', '-', pct(ratio(r('apache', 'mcpauth_apache').rps, r('apache', 'trivial_apache')?.rps)),
      f2(ratio(r('apache', 'mcpauth_apache').p99_ms, r('apache', 'trivial_apache')?.p99_ms)), '-']);
  }
  p(table(['ratios (mcpauth / ...)', 'req/s ÷ peer 1 proc', `req/s ÷ peer ${PROCS} procs`, 'req/s ÷ trivial', 'p99 ÷ trivial p99', `p99 ÷ peer p99 (${PROCS} procs, else 1)`], rr));
  p('(trivial: the same request to bench/trivial.c; for private_key_jwt, code and refresh, trivial\'s POST /token run)');
  p();

  // Memory.
  const mr = [];
  const range = (xs) => {
    const v = xs.filter((x) => x != null);
    return v.length ? `${f0(Math.min(...v))}-${f0(Math.max(...v))}` : '-';
  };
  for (const progs of Object.values(memory)) {
    for (const [prog, m] of Object.entries(progs)) {
      if (!m.before || !m.after) continue;
      const growth = m.after.map((x) => {
        const y = m.before.find((z) => z.pid === x.pid);
        return y && x.kb != null && y.kb != null ? x.kb - y.kb : null;
      }).filter((x) => x != null);
      mr.push([m.name, prog, String(m.after.length), f0(m.after_served - m.before_served),
        range(m.before.map((x) => x.kb)), range(m.after.map((x) => x.kb)),
        growth.length ? `${f0(Math.min(...growth))}..${f0(Math.max(...growth))}` : 'restarted',
        range(m.after.map((x) => x.anon)), range(m.after.map((x) => x.file)), range(m.after.map((x) => x.shmem)),
        range(m.after.map((x) => x.pss))]);
    }
  }
  p(table(['resident memory (kB)', 'program', 'procs', 'requests between', 'VmRSS before', 'VmRSS after', 'growth',
    'after: RssAnon', 'RssFile', 'RssShmem', 'Pss'], mr));
  if (series.length) {
    p(table(['mcpauth-token after N token requests', 'VmRSS kB (min-max)', 'RssAnon kB (min-max)'],
      series.map((x) => [f0(x.served), range(x.kb), range(x.anon)])));
  }
  p('(before: after the warm-up; after: after every scenario, topped up to --rss-requests token requests. RssFile is');
  p(' shared libraries and SQLite\'s mapped -shm file, shared with the other processes; Pss divides shared pages among');
  p(' the processes that map them.)');
  p();

  p(table(['plain CGI (one process per request)', 'ms per run', 'first answer'],
    cgi.map((c) => [c.what, f2(c.ms_per_run), c.status])));
  p(`(${CGI_RUNS} runs each in a shell loop as ${SERVICE_USER ? SERVICE_USER.name : 'this user'}, fork+exec included; /bin/true shows the loop's own cost.`);
  p(` The peer for comparison: node oidc-provider starts in ${f0(peerStartup[1])} ms (1 process)${peerStartup[PROCS] ? `, ${f0(peerStartup[PROCS])} ms (${PROCS} workers)` : ''}.)`);
  p();
  p(`database after the runs: ${db.access_tokens} access tokens, ${db.refresh_tokens} refresh tokens, ${db.clients} clients, ` +
    `${db.assertion_jtis} assertion jtis; ${f0(dbSize[0] / 1024)} kB + ${f0(dbSize[1] / 1024)} kB WAL`);
  p();

  // Targets.
  const t = [];
  const m = r('cc_basic', 'mcpauth');
  const peer = r('cc_basic', 'peerN') ?? r('cc_basic', 'peer1');
  const tr = r('cc_basic', 'trivial');
  const verdict = (ok) => (ok == null ? 'n/a' : ok ? 'PASS' : 'MISS');
  if (m && peer) {
    t.push([`client_credentials req/s ≥ 2× peer (${peer.contender})`, `${f2(m.rps / peer.rps)}×`, verdict(m.rps >= 2 * peer.rps)]);
    if (r('cc_basic', 'peer1') && peer !== r('cc_basic', 'peer1')) {
      const p1 = r('cc_basic', 'peer1');
      t.push(['  (for reference: ≥ 2× peer, 1 process)', `${f2(m.rps / p1.rps)}×`, verdict(m.rps >= 2 * p1.rps)]);
    }
  }
  if (m && tr) {
    t.push(['client_credentials req/s ≥ 50% of trivial', pct(m.rps / tr.rps), verdict(m.rps >= 0.5 * tr.rps)]);
    t.push(['client_credentials p99 ≤ 3× trivial p99', `${f2(m.p99_ms / tr.p99_ms)}×`, verdict(m.p99_ms <= 3 * tr.p99_ms)]);
  }
  const mreg = r('register', 'mcpauth');
  const treg = r('register', 'trivial');
  if (mreg && treg) t.push(['registration req/s ≥ 30% of trivial', pct(mreg.rps / treg.rps), verdict(mreg.rps >= 0.3 * treg.rps)]);
  const mm = memory.mcpauth || {};
  const all = Object.values(mm).flatMap((x) => (x.after || []).map((y) => y.kb)).filter((x) => x != null);
  if (all.length) t.push(['RSS per FastCGI process ≤ 8 MB (8192 kB)', `max ${f0(Math.max(...all))} kB`, verdict(Math.max(...all) <= 8192)]);
  const tok = mm['mcpauth-token'];
  if (tok?.before && tok?.after) {
    const n = tok.after_served - tok.before_served;
    const grew = tok.after.map((x) => {
      const y = tok.before.find((z) => z.pid === x.pid);
      return y ? { kb: x.kb - y.kb, pct: (x.kb - y.kb) / y.kb } : { kb: Infinity, pct: Infinity };
    });
    const worst = Math.max(...grew.map((g) => g.kb));
    t.push([`RSS flat: token processes grow ≤ 10% over ${f0(n)} requests`, `max +${f0(worst)} kB`,
      verdict(n >= RSS_REQUESTS && grew.every((g) => g.pct <= 0.1))]);
    // Once every kind of token request has run (caches filled): the
    // growth over the last reading, after at least 10,000 more requests.
    if (series.length >= 3) {
      const a = series[series.length - 2];
      const b = series[series.length - 1];
      const d = Math.max(...b.kb) - Math.max(...a.kb);
      t.push([`  steady state: the last ${f0(b.served - a.served)} requests (max VmRSS)`, `${d >= 0 ? '+' : ''}${f0(d)} kB`,
        verdict(b.served - a.served >= 10000 ? d <= 256 : null)]);
    }
  }
  p(table(['target (issue 7)', 'measured', 'verdict'], t));

  if (prof) {
    p();
    if (prof.error) p(`profile: ${prof.error}`);
    else {
      p(`profile of the mcpauth-token processes (perf record -F 499 --call-graph dwarf, ${f0(prof.rps)} req/s during it; ${prof.data}):`);
      p(prof.dso);
      p();
      p(prof.sym);
      p();
      p('inclusive: samples whose call chain passes through mcpauth-token\'s functions and the library calls they make:');
      p(prof.own);
      if (prof.strace) { p(); p('system calls of one token process for 3 s (strace -c):'); p(prof.strace.trim()); }
    }
  }
  if (cg) {
    p();
    if (cg.error) p(`callgrind: ${cg.error}`);
    else {
      p(`callgrind: one plain-CGI client_credentials request of mcpauth-token, ${cg.total} instructions (${cg.file})`);
      p('inclusive:');
      p(cg.inclusive);
      p('exclusive:');
      p(cg.exclusive);
    }
  }
  const text = out.join('\n');
  process.stdout.write(`\n${text}\n`);
  if (opt.json) {
    fs.writeFileSync(opt.json, JSON.stringify({ results, memory, series, cgi, profile: prof, callgrind: cg, db, dbSize, options: opt }, null, 2));
    say(`numbers written to ${opt.json}`);
  }
}

main().catch((e) => {
  process.stderr.write(`bench/run: ${e.stack || e}\n`);
  process.exit(1);
});
