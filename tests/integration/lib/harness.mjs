// harness.mjs: shared helpers for the integration tests. Creates mcpauth
// instances (a temp directory with mcpauth.conf, database and keys), runs the
// installed programs, and starts real lighttpd and Apache servers on
// 127.0.0.1 with the example configurations from apache-examples/.
//
// The programs come from the installed prefix: $MCPAUTH_PREFIX, else
// var/prefix under the repository (script/test installs there). Test-only
// tools come from the build directory: $MCPAUTH_BUILDDIR, else build/.
//
// When the tests run as root, everything an instance owns is given to
// www-data, and the servers and mcpauth-admin run as www-data, as in a real
// deployment (Apache refuses to run its children as root anyway).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const PREFIX = path.resolve(process.env.MCPAUTH_PREFIX || path.join(ROOT, 'var/prefix'));
export const BUILDDIR = path.resolve(process.env.MCPAUTH_BUILDDIR || path.join(ROOT, 'build'));
export const EXAMPLES = path.join(ROOT, 'apache-examples');
export const APACHE_MODULES = '/usr/lib/apache2/modules';

// The user the FastCGI programs run as: www-data when we are root, else us.
export const SERVICE_USER = (() => {
  if (process.getuid() !== 0) return null;
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n')
    .find((l) => l.startsWith('www-data:'));
  if (!line) throw new Error('running as root needs a www-data user');
  const [, , uid, gid] = line.split(':');
  return { name: 'www-data', uid: Number(uid), gid: Number(gid) };
})();

const runAs = () => (SERVICE_USER ? { uid: SERVICE_USER.uid, gid: SERVICE_USER.gid } : {});

// The service user may not reach a checkout under a private home directory:
// then the programs run from a copy in a temp directory (they link nothing
// from the build tree).
let copies = null;
function runnable(file) {
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: build and install first (script/test does)`);
  }
  if (!SERVICE_USER || spawnSync('test', ['-x', file], runAs()).status === 0) return file;
  if (!copies) {
    copies = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpauth-bin-'));
    fs.chmodSync(copies, 0o755);
    process.on('exit', () => fs.rmSync(copies, { recursive: true, force: true }));
  }
  const dir = path.join(copies, path.basename(path.dirname(file)));
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const copy = path.join(dir, path.basename(file));
  fs.copyFileSync(file, copy);
  fs.chmodSync(copy, 0o755);
  return copy;
}

export const ADMIN = runnable(path.join(PREFIX, 'sbin/mcpauth-admin'));
export const DISCOVERY = runnable(path.join(PREFIX, 'libexec/mcpauth/mcpauth-discovery'));
// The registration endpoint (RFC 7591/7592). Made runnable now so that a
// copy, when needed, lands next to DISCOVERY's in LIBEXECDIR; null when the
// prefix has no such program (an older build: tests that need it fail then).
const REGISTER_INSTALLED = path.join(PREFIX, 'libexec/mcpauth/mcpauth-register');
export const REGISTER = fs.existsSync(REGISTER_INSTALLED) ? runnable(REGISTER_INSTALLED) : null;
export const AUTHORIZE = runnable(path.join(PREFIX, 'libexec/mcpauth/mcpauth-authorize'));
export const TOKEN = runnable(path.join(PREFIX, 'libexec/mcpauth/mcpauth-token'));
// Where the web servers find the FastCGI programs.
export const LIBEXECDIR = path.dirname(DISCOVERY);
const TEST_SIGN_BUILT = path.join(BUILDDIR, 'tests/tools/mcpauth-test-sign');
let testSign = null;
const TEST_SIGN = () => (testSign ??= runnable(TEST_SIGN_BUILT));

function chownTree(p) {
  if (!SERVICE_USER) return;
  fs.chownSync(p, SERVICE_USER.uid, SERVICE_USER.gid);
  if (fs.lstatSync(p).isDirectory()) {
    for (const e of fs.readdirSync(p)) chownTree(path.join(p, e));
  }
}

// A free TCP port on 127.0.0.1 (the kernel's choice; closed again at once).
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Whether something listens on 127.0.0.1:port.
export function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// mcpauth.conf text from a description of the instance.
export function confText({ issuer, resources = [], extra = '' }) {
  const lines = [
    '# Written by tests/integration/lib/harness.mjs',
    `issuer = ${issuer}`,
    'database = mcpauth.db',
    'key_dir = keys',
  ];
  if (extra) lines.push(extra.trim());
  for (const r of resources) {
    lines.push('', '[resource]', `url = ${r.url}`);
    if (r.name) lines.push(`name = ${r.name}`);
    lines.push(`scopes = ${(r.scopes || ['mcp:tools']).join(' ')}`);
    if (r.defaultScopes) lines.push(`default_scopes = ${r.defaultScopes.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

// One mcpauth instance: a temp directory with mcpauth.conf (and, unless
// init is false, the database and a key made by `mcpauth-admin init`).
export class Instance {
  constructor({ issuer, resources, extra, init = true, name = 'mcpauth' }) {
    this.issuer = issuer;
    this.issuerPath = new URL(issuer).pathname.replace(/\/$/, '');
    this.resources = resources || [];
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-it-`));
    this.conf = path.join(this.dir, 'mcpauth.conf');
    this.db = path.join(this.dir, 'mcpauth.db');
    this.keyDir = path.join(this.dir, 'keys');
    // Private to its owner: the programs refuse a configuration their own
    // user owns and others can read (src/common/safety.c).
    fs.writeFileSync(this.conf, confText({ issuer, resources: this.resources, extra }), { mode: 0o640 });
    chownTree(this.dir);
    if (init) this.admin(['init'], { check: true });
  }

  // Runs mcpauth-admin -c conf ARGS as the service user. check: throw
  // unless it exits 0. Returns { status, stdout, stderr }.
  // input: text for its standard input (e.g. a password for `user add`).
  admin(args, { check = false, input } = {}) {
    return run(ADMIN, ['-c', this.conf, ...args], { check, user: true, input });
  }

  // admin() without blocking: for commands that fetch from a server run
  // in this process (a spawnSync would stall its event loop).
  adminAsync(args, { input } = {}) {
    return new Promise((resolve, reject) => {
      const child = spawn(ADMIN, ['-c', this.conf, ...args], {
        env: { PATH: process.env.PATH, LANG: 'C' }, ...runAs(),
      });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('error', reject);
      child.on('close', (status, signal) => {
        clearTimeout(timer);
        resolve({ status, signal, stdout, stderr });
      });
      child.stdin.end(input ?? '');
    });
  }

  // Signs claims with the active key (mcpauth-test-sign); a compact JWS.
  sign(claims) {
    const r = run(TEST_SIGN(), ['-c', this.conf, JSON.stringify(claims)], { check: true, user: true });
    return r.stdout.trim();
  }

  // Makes files created by root (sqlite3, copies) the service user's again.
  chown() { chownTree(this.dir); }

  // The private key file of kid.
  keyFile(kid) { return path.join(this.keyDir, `${kid}.jwk`); }

  // Every URL path at which discovery serves the AS metadata.
  asMetadataPaths() {
    const p = this.issuerPath;
    return [...new Set([
      `/.well-known/oauth-authorization-server${p}`,
      `/.well-known/openid-configuration${p}`,
      `${p}/.well-known/openid-configuration`,
      `${p}/.well-known/oauth-authorization-server`,
    ])];
  }

  remove() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function run(cmd, args, { check = false, user = false, env, input } = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: env || { PATH: process.env.PATH, LANG: 'C' },
    input,
    timeout: 30000,
    ...(user ? runAs() : {}),
  });
  if (r.error) throw r.error;
  const out = { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  if (check && r.status !== 0) {
    throw new Error(`${path.basename(cmd)} ${args.filter((a) => !a.startsWith('{')).join(' ')}` +
      ` exited ${r.status ?? r.signal}\n${r.stderr}${r.stdout}`);
  }
  return out;
}

export function sqlite3(db, sql) {
  return run('sqlite3', [db, sql], { check: true });
}

// The rows of a query as objects (sqlite3 -json); [] when there are none.
export function sqliteJson(db, sql) {
  const out = run('sqlite3', ['-json', db, sql], { check: true }).stdout.trim();
  return out ? JSON.parse(out) : [];
}

// The rows of a query as objects (sqlite3 -json) / a statement run, as the
// service user's files: queries as root could leave root-owned -wal/-shm
// files behind, so the instance is given back after each.
export function instRows(inst, sql) {
  const r = sqliteJson(inst.db, sql);
  inst.chown();
  return r;
}

export function instExec(inst, sql) {
  sqlite3(inst.db, sql);
  inst.chown();
}

// The raw bytes of a database: the file and, when present, its write-ahead
// log and rollback journal (to look for strings that must never be stored).
export function dbBytes(db) {
  return Buffer.concat(['', '-wal', '-journal']
    .map((suffix) => db + suffix)
    .filter((f) => fs.existsSync(f))
    .map((f) => fs.readFileSync(f)));
}

// One plain-CGI request to a program: returns { status, statusLine,
// headers (lower-case names), body (string), raw, exitCode, stderr }.
export function cgiRequest(inst, { method = 'GET', uri, headers = {}, body = '', program = DISCOVERY, env: extra = {} }) {
  const [p, q = ''] = uri.split('?');
  const env = {
    PATH: process.env.PATH,
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'mcpauth-tests',
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: '80',
    REMOTE_ADDR: '127.0.0.1',
    REQUEST_METHOD: method,
    REQUEST_URI: uri,
    SCRIPT_NAME: p,
    QUERY_STRING: q,
    MCPAUTH_CONFIG: inst.conf,
    ...extra,
  };
  if (body) env.CONTENT_LENGTH = String(Buffer.byteLength(body));
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase() === 'content-type' ? 'CONTENT_TYPE'
      : `HTTP_${k.toUpperCase().replace(/-/g, '_')}`;
    env[name] = v;
  }
  const r = spawnSync(program, [], { env, input: body, timeout: 10000, ...runAs() });
  if (r.error) throw r.error;
  const raw = r.stdout.toString('utf8');
  const sep = raw.search(/\r?\n\r?\n/);
  const head = sep >= 0 ? raw.slice(0, sep) : raw;
  const rest = sep >= 0 ? raw.slice(sep).replace(/^\r?\n\r?\n/, '') : '';
  const hdrs = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) hdrs[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const statusLine = hdrs.status || '';
  return {
    status: Number(statusLine.split(' ')[0]) || 0,
    statusLine,
    headers: hdrs,
    body: rest,
    raw,
    rawHead: head,
    exitCode: r.status,
    stderr: r.stderr.toString('utf8'),
  };
}

// --- web servers ------------------------------------------------------------

// The example lighttpd configuration, or a copy of it in run with other
// "max-procs" for some programs (procs: { register: 4 } sets it in the
// block of mcpauth-register); the file to include.
function lighttpdExample(run, procs) {
  const example = `${EXAMPLES}/lighttpd-mcpauth.conf`;
  if (!procs || !Object.keys(procs).length) return example;
  let text = fs.readFileSync(example, 'utf8');
  for (const [name, n] of Object.entries(procs)) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`procs.${name}: a positive integer, not ${n}`);
    const re = new RegExp(`("/mcpauth-${name}",[\\s\\S]*?"max-procs" => )\\d+`);
    if (!re.test(text)) throw new Error(`no "max-procs" for mcpauth-${name} in ${example}`);
    text = text.replace(re, `$1${n}`);
  }
  const copy = path.join(run, 'lighttpd-mcpauth.conf');
  fs.writeFileSync(copy, text);
  return copy;
}

function lighttpdConf(inst, port, run, procs) {
  return `# Written by tests/integration/lib/harness.mjs
server.bind = "127.0.0.1"
server.port = ${port}
server.document-root = "${run}/htdocs"
server.errorlog = "${run}/error.log"
server.pid-file = "${run}/lighttpd.pid"
${SERVICE_USER ? `server.username = "${SERVICE_USER.name}"\nserver.groupname = "${SERVICE_USER.name}"` : ''}

var.mcpauth_libexecdir = "${LIBEXECDIR}"
var.mcpauth_config = "${inst.conf}"
var.mcpauth_issuer_path = "${inst.issuerPath}"
var.mcpauth_socket_dir = "${run}/sockets"
include "${lighttpdExample(run, procs)}"
`;
}

// Whom Apache's children run as: { user, group } for its User and Group
// lines, or null to leave them as we are. By default the service user when
// we are root.
const SERVICE_CHILDREN = SERVICE_USER ? { user: SERVICE_USER.name, group: SERVICE_USER.name } : null;

// The lines every Apache of the tests (and of bench/) starts with: where
// it listens, as whom, where its files go.
export function apacheServer(port, run, logLevel, children = SERVICE_CHILDREN) {
  return `Listen 127.0.0.1:${port}
ServerName 127.0.0.1:${port}
${children ? `User ${children.user}\nGroup ${children.group}` : ''}
PidFile "${run}/apache.pid"
ErrorLog "${run}/error.log"
LogLevel ${logLevel}
DefaultRuntimeDir "${run}"
# flock, not file (fcntl): with a threaded MPM, fcntl deadlock detection
# refuses mod_fcgid a lock now and then ("can't lock process table:
# Resource deadlock avoided"), which closes the connection unanswered.
Mutex flock:${run} default`;
}

function apacheConf(inst, port, run) {
  const mod = (name, file) => `LoadModule ${name}_module ${APACHE_MODULES}/mod_${file || name}.so`;
  return `# Written by tests/integration/lib/harness.mjs
ServerRoot "${run}"
${mod('mpm_event')}
${mod('authz_core')}
${mod('alias')}
${mod('fcgid')}
${apacheServer(port, run, 'warn fcgid:info')}
DocumentRoot "${run}/htdocs"
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory "${run}/htdocs">
	Require all granted
</Directory>
FcgidIPCDir "${run}/fcgid"
FcgidProcessTableFile "${run}/fcgid/shm"

Define MCPAUTH_LIBEXECDIR ${LIBEXECDIR}
Define MCPAUTH_CONFIG ${inst.conf}
${inst.issuerPath ? `Define MCPAUTH_ISSUER_PATH ${inst.issuerPath}` : '# no issuer path: MCPAUTH_ISSUER_PATH stays undefined'}
Include "${EXAMPLES}/apache-mcpauth.conf"
`;
}

// Apache as a shared host runs it: a document root with AllowOverride All
// and nothing of mcpauth in the server configuration; handler 'fcgid'
// (mod_fcgid, event MPM) or 'cgi' (mod_cgi only, with the prefork MPM it
// is made for; no mod_fcgid, no mod_cgid). What mcpauth needs comes from
// `mcpauth-admin deploy` in the document root (issue 8). docroot: by
// default run/htdocs; children: see SERVICE_CHILDREN (shared-hosting-
// install.test.mjs serves an account's ~/public_html, run as the account).
export function sharedHostConf({ port, run, handler, docroot = `${run}/htdocs`, children = SERVICE_CHILDREN }) {
  const mod = (name, file) => `LoadModule ${name}_module ${APACHE_MODULES}/mod_${file || name}.so`;
  return `# Written by tests/integration/lib/harness.mjs (shared hosting, ${handler})
ServerRoot "${run}"
${handler === 'fcgid' ? mod('mpm_event') : mod('mpm_prefork')}
${mod('authz_core')}
${mod('alias')}
${mod('dir')}
${mod('mime')}
TypesConfig /etc/mime.types
${mod('rewrite')}
${handler === 'fcgid' ? mod('fcgid') : mod('cgi')}
${apacheServer(port, run, 'warn', children)}
${handler === 'fcgid' ? `FcgidIPCDir "${run}/fcgid"\nFcgidProcessTableFile "${run}/fcgid/shm"` : '# mod_cgi forks each CGI program from the worker itself.'}
DocumentRoot "${docroot}"
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory "${docroot}">
	AllowOverride All
	Options None
	Require all granted
</Directory>
`;
}

export const APACHE = fs.existsSync('/usr/sbin/apache2') ? '/usr/sbin/apache2' : 'apache2';

// A web server process of the tests (kind: 'lighttpd' or 'apache') that
// listens on 127.0.0.1:port, with its error log at errorLog, serving the
// mcpauth configuration conf (whose FastCGI processes stop() ends too).
// A subclass writes the server's configuration, then calls launch().
export class WebServer {
  constructor(kind, port, errorLog, conf) {
    this.kind = kind;
    this.port = port;
    this.errorLog = errorLog;
    this.conf = conf;
    this.proc = null;
    this.output = '';
  }

  // Starts cmd args and waits until it listens on the port.
  async launch(cmd, args) {
    // Apache's own environment variables (Debian's apache2 binary wants
    // none of /etc/apache2/envvars with -f and absolute paths).
    // Its own process group: Apache's prefork MPM stops its children with
    // kill(0, SIGTERM), which would otherwise reach this test runner and
    // whatever started it (measured: the whole script/test).
    this.proc = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, LANG: 'C' },
      detached: true,
    });
    this.proc.stdout.on('data', (d) => { this.output += d; });
    this.proc.stderr.on('data', (d) => { this.output += d; });
    let exited = null;
    this.exitPromise = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
    });
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(`${this.kind} exited (${exited.code ?? exited.signal}) while starting\n${this.logs()}`);
      }
      if (await canConnect(this.port)) return this;
      await sleep(50);
    }
    await this.stop();
    throw new Error(`${this.kind} did not listen on ${this.port} within 15 s\n${this.logs()}`);
  }

  // The server's output and error log (the programs' stderr lands there).
  logs() {
    let log = '';
    try { log = fs.readFileSync(this.errorLog, 'utf8'); } catch { /* not yet */ }
    return `--- ${this.kind} error log (${this.errorLog}) ---\n${log}` +
      (this.output ? `--- ${this.kind} stdout/stderr ---\n${this.output}` : '');
  }

  // Stops the server and waits for it; then ends any FastCGI process of
  // its configuration that outlived it.
  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
      await this.exitPromise;
      clearTimeout(t);
    }
    this.proc = null;
    for (const pid of programPids(this.conf)) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    }
  }
}

// A running lighttpd or Apache serving one instance on 127.0.0.1:port.
// opts.procs (lighttpd only): FastCGI processes per program, e.g.
// { register: 4 } (the example configuration runs 2 of each).
export class Server extends WebServer {
  // opts.sharedHost ('fcgid' or 'cgi', Apache only): sharedHostConf.
  constructor(kind, inst, port, { procs, sharedHost } = {}) {
    if (procs && kind !== 'lighttpd') throw new Error(`procs: lighttpd only, not ${kind}`);
    if (sharedHost && kind !== 'apache') throw new Error(`sharedHost: apache only, not ${kind}`);
    const run = path.join(inst.dir, kind);
    super(kind, port, path.join(run, 'error.log'), inst.conf);
    this.procs = procs;
    this.sharedHost = sharedHost;
    this.docroot = path.join(run, 'htdocs');
    this.inst = inst;
    this.origin = `http://127.0.0.1:${port}`;
    this.run = run;
  }

  async start() {
    const run = this.run;
    for (const d of ['', 'htdocs', 'sockets', 'fcgid']) fs.mkdirSync(path.join(run, d), { recursive: true });
    fs.writeFileSync(this.errorLog, '');
    chownTree(run);
    if (this.kind === 'lighttpd') {
      this.confFile = path.join(run, 'lighttpd.conf');
      fs.writeFileSync(this.confFile, lighttpdConf(this.inst, this.port, run, this.procs));
      return this.launch('lighttpd', ['-D', '-f', this.confFile]);
    }
    if (this.kind === 'apache') {
      this.confFile = path.join(run, 'apache.conf');
      fs.writeFileSync(this.confFile, this.sharedHost
        ? sharedHostConf({ port: this.port, run, handler: this.sharedHost })
        : apacheConf(this.inst, this.port, run));
      return this.launch(APACHE, ['-f', this.confFile, '-DFOREGROUND']);
    }
    throw new Error(`unknown server ${this.kind}`);
  }

  url(p) { return new URL(p, this.origin).href; }

  // The PIDs of the running FastCGI processes of one program of this
  // instance ('register', 'token', ...), e.g. to kill them.
  programPids(name) {
    return programPids(this.inst.conf).filter((pid) => {
      try {
        const argv0 = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
        return path.basename(argv0) === `mcpauth-${name}`;
      } catch { return false; /* gone */ }
    });
  }

  // fetch without following redirects (a redirect is a failure for metadata).
  fetch(p, init = {}) {
    return fetch(this.url(p), { redirect: 'manual', ...init });
  }
}

// Processes whose environment names this configuration file: the FastCGI
// children of our servers.
export function programPids(conf) {
  const pids = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const env = fs.readFileSync(`/proc/${e}/environ`, 'utf8');
      if (env.split('\0').includes(`MCPAUTH_CONFIG=${conf}`)) pids.push(Number(e));
    } catch { /* not ours to read, or gone */ }
  }
  return pids;
}

// Creates an instance for issuer path and resource paths on a fresh port,
// starts the server, and returns { inst, server, issuer, resources }.
// opts.resources: [{ path, scopes, name }]; opts.issuerPath: '' or '/t1';
// opts.procs: see Server.
// A resource may give a full url instead of a path (an MCP server on
// another origin, e.g. one the test runs itself).
export async function startInstance(kind, { issuerPath = '', resources = [{ path: '/mcp' }], extra, procs } = {}) {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const issuer = origin + issuerPath;
  const res = resources.map((r, i) => ({
    url: r.url || origin + r.path,
    name: r.name || `Test MCP server ${i + 1}`,
    scopes: r.scopes || ['mcp:tools', 'mcp:resources'],
  }));
  const inst = new Instance({ issuer, resources: res, extra, name: kind });
  const server = new Server(kind, inst, port, { procs });
  try {
    await server.start();
  } catch (e) {
    inst.remove();
    throw e;
  }
  return { inst, server, issuer, resources: res, origin };
}

// Wraps a test body so that a failure prints the server logs with it.
export function withLogs(getServers, fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const servers = [].concat(getServers() || []).filter(Boolean);
      for (const s of servers) process.stderr.write(`\n${s.logs()}\n`);
      throw e;
    }
  };
}

// Polls fn until it returns true or the time runs out (ms).
export async function eventually(fn, ms = 5000, step = 200) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > deadline) return false;
    await sleep(step);
  }
}
