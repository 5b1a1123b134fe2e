/**
 * Start and stop the third-party digest servers of shared/PEERS.md (lighttpd, apache2) on 127.0.0.1,
 * each with its config in a temp dir and a tiny CGI answering a canned SOAP response.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freeTcpPort } from '../support/ports';

export const REALM = 'ONVIF';

async function waitForPort(port: number, child: ChildProcess, logFile: string, ms = 8000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`peer exited with ${child.exitCode}: ${readTail(logFile)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`peer did not listen on ${port} within ${ms} ms: ${readTail(logFile)}`);
}

function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-800);
  } catch {
    return '(no log)';
  }
}

/** The CGI: reads the request, answers GetDeviceInformationResponse naming the server and the authenticated user. */
const CGI = `#!/bin/sh
cat > /dev/null
printf 'Content-Type: application/soap+xml; charset=utf-8\\r\\n\\r\\n'
printf '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Body><tds:GetDeviceInformationResponse><tds:Manufacturer>digest-test</tds:Manufacturer><tds:Model>%s</tds:Model><tds:FirmwareVersion>1</tds:FirmwareVersion><tds:SerialNumber>%s</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId></tds:GetDeviceInformationResponse></s:Body></s:Envelope>' "$SERVER_SOFTWARE" "$REMOTE_USER"
`;

export function htdigestLine(user: string, password: string, realm = REALM): string {
  return `${user}:${realm}:${createHash('md5').update(`${user}:${realm}:${password}`).digest('hex')}\n`;
}

export interface RunningPeer {
  url: string;
  dir: string;
  /** Request lines in the server's access log (status code first); complete once stopped. */
  accessLog(): string[];
  stop(): Promise<void>;
}

function makeDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755); // apache's CGI daemon runs as www-data
  return dir;
}

async function run(cmd: string, args: string[], dir: string, port: number, logFile: string, accessLog: string, url: string): Promise<RunningPeer> {
  const child = spawn(cmd, args, { stdio: ['ignore', fs.openSync(logFile, 'a'), fs.openSync(logFile, 'a')] });
  try {
    await waitForPort(port, child, logFile);
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw e;
  }
  let finalLog: string[] | undefined;
  const readLog = () => (fs.existsSync(accessLog) ? fs.readFileSync(accessLog, 'utf8').split('\n').filter(Boolean) : []);
  return {
    url,
    dir,
    accessLog: () => finalLog ?? readLog(),
    stop: async () => {
      if (finalLog) return;
      if (child.exitCode === null && child.pid) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        // The fallback timer is cleared once the peer exits: left running, it kept the test process alive 5 s.
        let fallback: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (fallback = setTimeout(r, 5000)))]);
        clearTimeout(fallback);
        if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      }
      finalLog = readLog(); // lighttpd buffers its access log until shutdown
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const LIGHTTPD = '/usr/sbin/lighttpd';
export const APACHE = '/usr/sbin/apache2';

/** lighttpd mod_auth digest with the `plain` backend; `algorithm` e.g. "SHA-256|MD5" or "MD5". */
export async function startLighttpd(algorithm: string, user: string, password: string): Promise<RunningPeer> {
  const dir = makeDir('onvifq-lighttpd-');
  const port = await freeTcpPort();
  fs.mkdirSync(path.join(dir, 'www/onvif'), { recursive: true });
  const cgi = path.join(dir, 'www/onvif/device_service');
  fs.writeFileSync(cgi, CGI, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'plain.users'), `${user}:${password}\n`);
  const conf = path.join(dir, 'lighttpd.conf');
  const access = path.join(dir, 'access.log');
  fs.writeFileSync(
    conf,
    `server.document-root = "${dir}/www/"
server.bind = "127.0.0.1"
server.port = ${port}
server.errorlog = "${dir}/error.log"
server.modules = ( "mod_auth", "mod_authn_file", "mod_cgi", "mod_accesslog" )
accesslog.filename = "${access}"
accesslog.format = "%s %r"
cgi.assign = ( "_service" => "" )
auth.backend = "plain"
auth.backend.plain.userfile = "${dir}/plain.users"
$HTTP["url"] =~ "^/onvif/" {
  auth.require = ( "" => ( "method" => "digest", "realm" => "${REALM}", "require" => "valid-user", "algorithm" => "${algorithm}" ) )
}
`,
  );
  return run(LIGHTTPD, ['-D', '-f', conf], dir, port, path.join(dir, 'stderr.log'), access, `http://127.0.0.1:${port}/onvif/device_service`);
}

/** apache2 mod_auth_digest: MD5, qop=auth, `domain=/onvif/`. */
export async function startApache(user: string, password: string): Promise<RunningPeer> {
  const dir = makeDir('onvifq-apache-');
  const port = await freeTcpPort();
  fs.mkdirSync(path.join(dir, 'cgi'));
  fs.mkdirSync(path.join(dir, 'www'));
  fs.writeFileSync(path.join(dir, 'cgi/device_service'), CGI, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'htdigest'), htdigestLine(user, password), { mode: 0o644 });
  const access = path.join(dir, 'access.log');
  const mods = ['mpm_event', 'authz_core', 'authn_core', 'authn_file', 'authz_user', 'auth_digest', 'alias', 'cgid', 'mime'];
  const asRoot = process.getuid?.() === 0;
  const conf = path.join(dir, 'apache2.conf');
  fs.writeFileSync(
    conf,
    `ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
${mods.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`).join('\n')}
${asRoot ? 'User www-data\nGroup www-data' : ''}
PidFile "${dir}/apache.pid"
ErrorLog "${dir}/error.log"
DefaultRuntimeDir "${dir}"
ScriptSock "${dir}/cgid.sock"
LogFormat "%>s %r" short
CustomLog "${access}" short
DocumentRoot "${dir}/www"
TypesConfig /etc/mime.types
KeepAlive On
ScriptAlias /onvif/ "${dir}/cgi/"
<Directory "${dir}/cgi">
  Require all granted
</Directory>
<Location /onvif/>
  AuthType Digest
  AuthName "${REALM}"
  AuthDigestDomain /onvif/
  AuthDigestProvider file
  AuthUserFile "${dir}/htdigest"
  AuthDigestAlgorithm MD5
  AuthDigestQop auth
  Require valid-user
</Location>
`,
  );
  return run(APACHE, ['-f', conf, '-DFOREGROUND'], dir, port, path.join(dir, 'error.log'), access, `http://127.0.0.1:${port}/onvif/device_service`);
}
