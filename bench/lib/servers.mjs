// servers.mjs: the contenders of bench/run as processes: lighttpd or Apache
// with mod_fcgid serving an mcpauth instance (the example configurations of
// apache-examples/, with a fixed number of FastCGI processes), lighttpd or
// Apache serving bench/trivial.c, and the peer (peer.mjs). Also what
// /proc says about their processes: resident memory and CPU time.
//
// The mcpauth instances come from the integration tests' harness
// (tests/integration/lib/harness.mjs): a temp directory with mcpauth.conf,
// the database and a key, owned by www-data when we are root, as there.
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  APACHE_MODULES, EXAMPLES, LIBEXECDIR, SERVICE_USER, apacheServer, canConnect,
} from '../../tests/integration/lib/harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Gives a file or directory tree to the service user (the web servers'
// children run as www-data when we are root).
export function chownTree(p) {
  if (!SERVICE_USER) return;
  fs.chownSync(p, SERVICE_USER.uid, SERVICE_USER.gid);
  if (fs.lstatSync(p).isDirectory()) {
    for (const e of fs.readdirSync(p)) chownTree(path.join(p, e));
  }
}

// --- /proc -------------------------------------------------------------------------

const CLK_TCK = 100; // getconf CLK_TCK on Linux

// { pid: ppid } of every process.
function parents() {
  const m = new Map();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      m.set(Number(e), Number(rest[1]));
    } catch { /* gone */ }
  }
  return m;
}

// Every descendant of pid.
export function descendants(pid) {
  const pp = parents();
  const out = [];
  let frontier = [pid];
  while (frontier.length) {
    const next = [];
    for (const [p, parent] of pp) if (frontier.includes(parent)) next.push(p);
    out.push(...next);
    frontier = next;
  }
  return out;
}

export function exeName(pid) {
  try {
    return path.basename(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]);
  } catch {
    return null;
  }
}

// VmRSS in kB, or null.
export function rssKb(pid) {
  return memKb(pid)?.VmRSS ?? null;
}

// VmRSS and its parts (RssAnon: the process's own memory; RssFile: mapped
// files: shared libraries, SQLite's -shm file; RssShmem: SysV and tmpfs
// shared memory) and Pss in kB, or null.
export function memKb(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const out = {};
    for (const k of ['VmRSS', 'RssAnon', 'RssFile', 'RssShmem']) {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text);
      out[k] = m ? Number(m[1]) : null;
    }
    // Pss: the process's share of what it has resident, shared pages
    // divided among the processes that map them (root can read it).
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      out.Pss = m ? Number(m[1]) : null;
    } catch {
      out.Pss = null;
    }
    return out.VmRSS == null ? null : out;
  } catch {
    return null;
  }
}

// utime + stime in microseconds, or 0 for a process that is gone.
export function cpuUs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 of stat(5); f[0] is field 3
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
  } catch {
    return 0;
  }
}

export const sumCpuUs = (pids) => pids.reduce((s, p) => s + cpuUs(p), 0);

// --- web servers ---------------------------------------------------------------------

// The example lighttpd configuration with max-procs set to procs.
function lighttpdExample(procs) {
  const text = fs.readFileSync(path.join(EXAMPLES, 'lighttpd-mcpauth.conf'), 'utf8');
  let n = 0;
  const out = text.replace(/"max-procs" => \d+,/g, () => { n++; return `"max-procs" => ${procs},`; });
  if (n !== 4) throw new Error(`lighttpd-mcpauth.conf: expected 4 max-procs lines, found ${n}`);
  return out;
}

// The example Apache configuration with exactly procs processes per program.
function apacheExample(procs) {
  const text = fs.readFileSync(path.join(EXAMPLES, 'apache-mcpauth.conf'), 'utf8');
  const out = text
    .replace(/^FcgidMinProcessesPerClass \d+$/m, `FcgidMinProcessesPerClass ${procs}`)
    .replace(/^FcgidMaxProcessesPerClass \d+$/m, `FcgidMaxProcessesPerClass ${procs}`);
  if (!out.includes(`FcgidMinProcessesPerClass ${procs}`) || !out.includes(`FcgidMaxProcessesPerClass ${procs}`)) {
    throw new Error('apache-mcpauth.conf: no FcgidMin/MaxProcessesPerClass lines to set');
  }
  return out;
}

const lighttpdUser = () => (SERVICE_USER
  ? `server.username = "${SERVICE_USER.name}"\nserver.groupname = "${SERVICE_USER.name}"\n` : '');

// Keep-alive as the load generator uses it: one connection for the whole
// run (lighttpd closes after 1000 requests and Apache after 100 by default).
function lighttpdHead(port, run) {
  return `# Written by bench/lib/servers.mjs
server.bind = "127.0.0.1"
server.port = ${port}
server.document-root = "${run}/htdocs"
server.errorlog = "${run}/error.log"
server.pid-file = "${run}/lighttpd.pid"
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
${lighttpdUser()}`;
}

function apacheHead(port, run) {
  const mod = (name, file) => `LoadModule ${name}_module ${APACHE_MODULES}/mod_${file || name}.so`;
  return `# Written by bench/lib/servers.mjs
ServerRoot "${run}"
${mod('mpm_event')}
${mod('authz_core')}
${mod('alias')}
${mod('fcgid')}
${apacheServer(port, run, 'warn')}
DocumentRoot "${run}/htdocs"
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
<Directory />
	AllowOverride None
	Require all denied
</Directory>
FcgidIPCDir "${run}/fcgid"
FcgidProcessTableFile "${run}/fcgid/shm"
`;
}

// A web server (lighttpd or Apache) in the foreground, its output in
// run/output.log. name: what the tables call it.
export class WebServer {
  constructor({ kind, name, port, run, conf }) {
    Object.assign(this, { kind, name, port, run, conf });
    this.origin = `http://127.0.0.1:${port}`;
    this.proc = null;
  }

  // mcpauth under lighttpd or Apache, procs FastCGI processes per program.
  static mcpauth(kind, inst, port, procs) {
    const run = path.join(inst.dir, kind);
    fs.mkdirSync(run, { recursive: true });
    let conf;
    if (kind === 'lighttpd') {
      const example = path.join(run, 'lighttpd-mcpauth.conf');
      fs.writeFileSync(example, lighttpdExample(procs));
      conf = `${lighttpdHead(port, run)}
var.mcpauth_libexecdir = "${LIBEXECDIR}"
var.mcpauth_config = "${inst.conf}"
var.mcpauth_issuer_path = "${inst.issuerPath}"
var.mcpauth_socket_dir = "${run}/sockets"
include "${example}"
`;
    } else {
      const example = path.join(run, 'apache-mcpauth.conf');
      fs.writeFileSync(example, apacheExample(procs));
      conf = `${apacheHead(port, run)}
Define MCPAUTH_LIBEXECDIR ${LIBEXECDIR}
Define MCPAUTH_CONFIG ${inst.conf}
Include "${example}"
`;
    }
    return new WebServer({ kind, name: `mcpauth (${kind})`, port, run, conf });
  }

  // The trivial FastCGI program (bench/trivial.c) at every URL.
  static trivial(kind, dir, program, port, procs) {
    const run = path.join(dir, `trivial-${kind}`);
    fs.mkdirSync(run, { recursive: true });
    let conf;
    if (kind === 'lighttpd') {
      conf = `${lighttpdHead(port, run)}
server.modules += ( "mod_fastcgi" )
fastcgi.server = (
	"/" => ((
		"bin-path" => "${program}",
		"socket" => "${run}/sockets/trivial.sock",
		"check-local" => "disable",
		"max-procs" => ${procs},
		"disable-time" => 1,
	))
)
`;
    } else {
      conf = `${apacheHead(port, run)}
AliasMatch "^/.*$" "${program}"
<Directory "${path.dirname(program)}">
	SetHandler fcgid-script
	Options ExecCGI
	Require all granted
	CGIPassAuth On
</Directory>
FcgidMinProcessesPerClass ${procs}
FcgidMaxProcessesPerClass ${procs}
FcgidIdleTimeout 3600
FcgidProcessLifeTime 0
FcgidMaxRequestsPerProcess 0
`;
    }
    return new WebServer({ kind, name: `trivial (${kind})`, port, run, conf });
  }

  async start() {
    const run = this.run;
    for (const d of ['', 'htdocs', 'sockets', 'fcgid']) fs.mkdirSync(path.join(run, d), { recursive: true });
    fs.writeFileSync(path.join(run, 'error.log'), '');
    this.confFile = path.join(run, `${this.kind}.conf`);
    fs.writeFileSync(this.confFile, this.conf);
    chownTree(run);
    const out = fs.openSync(path.join(run, 'output.log'), 'a');
    const [cmd, args] = this.kind === 'lighttpd'
      ? ['lighttpd', ['-D', '-f', this.confFile]]
      : [fs.existsSync('/usr/sbin/apache2') ? '/usr/sbin/apache2' : 'apache2', ['-f', this.confFile, '-DFOREGROUND']];
    this.proc = spawn(cmd, args, { stdio: ['ignore', out, out], env: { PATH: process.env.PATH, LANG: 'C' } });
    fs.closeSync(out);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    let gone = null;
    this.exited.then((x) => { gone = x; });
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (gone) throw new Error(`${this.name} exited (${gone.code ?? gone.signal}) while starting\n${this.logs()}`);
      if (await canConnect(this.port)) return this;
      await sleep(50);
    }
    await this.stop();
    throw new Error(`${this.name} did not listen on ${this.port} within 15 s\n${this.logs()}`);
  }

  get pid() { return this.proc?.pid; }

  // The FastCGI processes running program (a file name), or all of them.
  fcgiPids(program) {
    if (!this.proc) return [];
    return descendants(this.proc.pid).filter((p) => {
      const n = exeName(p);
      return program ? n === program : n && n !== 'lighttpd' && n !== 'apache2';
    });
  }

  // The web server's own processes (lighttpd: one; Apache: its children).
  serverPids() {
    if (!this.proc) return [];
    return [this.proc.pid, ...descendants(this.proc.pid).filter((p) => ['lighttpd', 'apache2'].includes(exeName(p)))];
  }

  logs() {
    const read = (f) => { try { return fs.readFileSync(path.join(this.run, f), 'utf8'); } catch { return ''; } };
    return `--- ${this.name}: error.log ---\n${read('error.log').slice(-4000)}` +
      `--- ${this.name}: output ---\n${read('output.log').slice(-4000)}`;
  }

  // Stops the server, then any of its FastCGI processes that outlived it.
  async stop() {
    if (!this.proc) return;
    const children = descendants(this.proc.pid);
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
      await this.exited;
      clearTimeout(t);
    }
    for (const pid of children) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    }
    this.proc = null;
  }
}

// --- the peer ------------------------------------------------------------------------

// node oidc-provider (peer.mjs) with workers processes (1: no cluster).
export class Peer {
  constructor({ port, issuer, resource, workers, dir, secrets }) {
    Object.assign(this, { port, issuer, resource, workers, dir });
    this.name = workers === 1 ? 'oidc-provider (1 process)' : `oidc-provider (${workers} processes)`;
    this.origin = `http://127.0.0.1:${port}`;
    this.config = { port, issuer, resource, workers, ...secrets };
    this.proc = null;
  }

  async start() {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, 'peer.json');
    fs.writeFileSync(file, JSON.stringify(this.config), { mode: 0o600 });
    this.log = path.join(this.dir, 'output.log');
    const out = fs.openSync(this.log, 'a');
    const t0 = process.hrtime.bigint();
    this.proc = fork(path.join(path.dirname(new URL(import.meta.url).pathname), '../peer.mjs'), [], {
      stdio: ['ignore', out, out, 'ipc'],
      env: { PATH: process.env.PATH, LANG: 'C', NODE_ENV: 'production', PEER_CONFIG: file },
    });
    fs.closeSync(out);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    const ready = new Promise((resolve) => {
      const on = (m) => { if (m?.ready) { this.proc.off('message', on); resolve(true); } };
      this.proc.on('message', on);
    });
    const r = await Promise.race([ready, this.exited, sleep(20000).then(() => 'timeout')]);
    if (r !== true) {
      await this.stop();
      throw new Error(`${this.name} did not start (${JSON.stringify(r)})\n${this.logs()}`);
    }
    this.startupMs = Number(process.hrtime.bigint() - t0) / 1e6;
    return this;
  }

  get pid() { return this.proc?.pid; }

  // The processes that serve requests: the workers, or the one process.
  fcgiPids() {
    if (!this.proc) return [];
    return this.workers === 1 ? [this.proc.pid] : descendants(this.proc.pid);
  }

  serverPids() { return this.workers === 1 ? [] : [this.proc.pid]; }

  // Asks the single process to mint n codes or refresh tokens into file.
  mint(kind, n, file, challenge) {
    if (this.workers !== 1) throw new Error('minting needs the single-process peer');
    return new Promise((resolve, reject) => {
      const on = (m) => {
        if (m?.minted === undefined && m?.error === undefined) return;
        this.proc.off('message', on);
        if (m.error) reject(new Error(m.error)); else resolve(m.minted);
      };
      this.proc.on('message', on);
      this.proc.send({ mint: kind, n, file, challenge });
    });
  }

  logs() {
    try { return `--- ${this.name}: output ---\n${fs.readFileSync(this.log, 'utf8').slice(-4000)}`; } catch { return ''; }
  }

  async stop() {
    if (!this.proc) return;
    const children = descendants(this.proc.pid);
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(t);
    }
    for (const pid of children) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    this.proc = null;
  }
}

export const tmpDir = (name) => fs.mkdtempSync(path.join(os.tmpdir(), name));
