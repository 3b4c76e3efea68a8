/**
 * A real nginx (Debian's) in front of a hub, running the committed deploy/nginx/heartline.conf:
 * the test substitutes only the values on its `CHANGE` lines (ports, addresses, certificate
 * paths) and wraps it in a minimal nginx.conf whose logs, pid and temp files live in a temp dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, selfSignedCertificate } from "@heartline/shared/testing";

export const NGINX_CONF = fileURLToPath(new URL("../../../deploy/nginx/heartline.conf", import.meta.url));

/** `text` with `from` replaced by `to`; throws unless `from` occurs exactly once. */
function replaceOnce(text: string, from: string, to: string): string {
  const parts = text.split(from);
  if (parts.length !== 2) {
    throw new Error(
      `deploy/nginx/heartline.conf: expected "${from}" once, found it ${String(parts.length - 1)} times`,
    );
  }
  return parts.join(to);
}

export interface NginxOptions {
  /** The hub's address as nginx reaches it, `host:port`. */
  upstream: string;
  /** nginx connects to the hub from this address (proxy_bind), so the hub can tell it apart. */
  bindAddress?: string;
}

export class Nginx {
  #child: ChildProcess | undefined;
  #stderr = "";

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** The public URL, https on a free loopback port. */
  get url(): string {
    return `https://127.0.0.1:${String(this.port)}`;
  }

  get accessLog(): string {
    return readFileSync(join(this.dir, "access.log"), "utf8");
  }

  get errorLog(): string {
    return readFileSync(join(this.dir, "error.log"), "utf8");
  }

  static async start(options: NginxOptions): Promise<Nginx> {
    const nginx = new Nginx(mkdtempSync(join(tmpdir(), "heartline-nginx-")), await freePort());
    await nginx.#run(options);
    return nginx;
  }

  /** The committed config with only its CHANGE values substituted. */
  static render(options: { upstream: string; listen: string; cert: string; key: string }): string {
    let conf = readFileSync(NGINX_CONF, "utf8");
    conf = replaceOnce(conf, "server 127.0.0.1:8080;", `server ${options.upstream};`);
    conf = replaceOnce(conf, "listen 443 ssl;", `listen ${options.listen} ssl;`);
    conf = replaceOnce(conf, "/etc/ssl/certs/hub.example.com.pem;", `${options.cert};`);
    conf = replaceOnce(conf, "/etc/ssl/private/hub.example.com.key;", `${options.key};`);
    return conf;
  }

  async #run(options: NginxOptions): Promise<void> {
    const { cert, key } = selfSignedCertificate(this.dir);
    const site = join(this.dir, "heartline.conf");
    writeFileSync(
      site,
      Nginx.render({ upstream: options.upstream, listen: `127.0.0.1:${String(this.port)}`, cert, key }),
    );
    const d = this.dir;
    // The frame an operator's nginx.conf gives it: events, an http block with logs; here all in
    // the temp dir. `user root` because the tests run as root and the temp dir is root's.
    const main = join(this.dir, "nginx.conf");
    writeFileSync(
      main,
      [
        "user root;",
        "worker_processes 1;",
        `error_log ${d}/error.log info;`,
        "events { worker_connections 256; }",
        "http {",
        `  access_log ${d}/access.log;`,
        `  client_body_temp_path ${d}/body;`,
        `  proxy_temp_path ${d}/proxy;`,
        `  fastcgi_temp_path ${d}/fastcgi;`,
        `  uwsgi_temp_path ${d}/uwsgi;`,
        `  scgi_temp_path ${d}/scgi;`,
        options.bindAddress === undefined ? "" : `  proxy_bind ${options.bindAddress};`,
        `  include ${site};`,
        "}",
        "",
      ].join("\n"),
    );
    // Debian puts nginx in /usr/sbin, which a non-root PATH often lacks.
    const binary = existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
    const child = spawn(binary, ["-p", d, "-c", main, "-g", `daemon off; pid ${d}/nginx.pid;`], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.#child = child;
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    const failed = new Promise<never>((_resolve, reject) => {
      child.once("error", (error) => {
        reject(new Error(`could not run nginx (apt-get install -y nginx): ${error.message}`));
      });
      child.once("exit", (code) => {
        reject(new Error(`nginx exited with ${String(code)}:\n${this.#stderr}`));
      });
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const listening = await Promise.race([failed, this.#accepts()]);
      if (listening) return;
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${this.url}:\n${this.#stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  #accepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => {
        resolve(false);
      });
    });
  }

  /** Stops nginx (SIGTERM: its fast shutdown; SIGKILL after 5 s) and removes its temp dir. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) =>
        child.once("exit", () => {
          resolve();
        }),
      );
      child.kill("SIGTERM");
      const killer = setTimeout(() => {
        child.kill("SIGKILL");
      }, 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
