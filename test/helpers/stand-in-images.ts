import { RootFs } from './chroot-container.ts';
import type { EmulatedImage } from './pod-emulator.ts';

/*
 * The images the examples name, as the tests make them without a registry: a static busybox (no
 * libc) and a shell script standing in for the real program, at the path the manifest runs. The
 * pod emulator runs them as root filesystems; the engine tests import them into Podman.
 */

/** An image that runs one program, a shell script standing in for the real binary. */
function programImage(path: string, script: string): EmulatedImage {
  return { rootfs: () => new RootFs().withBusybox().write(path, `#!/bin/sh\n${script}\n`, 0o755) };
}

const SERVE_UNTIL_TERM = 'trap "echo stopping; exit 0" TERM; while :; do sleep 0.1 & wait; done';

/**
 * Every image of the examples but kubexit's own, by the name the manifests give it. The forwarder
 * exits `forwarderExit`, or $FORWARDER_EXIT when its container sets it.
 */
export function standIns(forwarderExit = 0): Record<string, EmulatedImage> {
  return {
    'busybox:1.36': { rootfs: () => new RootFs().withBusybox(), cmd: ['sh'] },
    'registry.example/forwarder:1.4': programImage(
      '/usr/local/bin/forwarder',
      `echo "forwarding from $2"; sleep 0.3; exit \${FORWARDER_EXIT:-${forwarderExit}}`,
    ),
    'registry.example/queue:3.12': programImage(
      '/usr/local/bin/queue-server',
      // Accepts connections on 5672 after a moment, as a queue does once it has started.
      `sleep 0.3; mkdir -p /tmp/q; httpd -p 127.0.0.1:5672 -h /tmp/q; echo listening; ${SERVE_UNTIL_TERM}`,
    ),
    // nginx as the unprivileged image runs it (its entrypoint, then nginx): a page on 8080.
    'nginxinc/nginx-unprivileged:1.27-alpine': programImage(
      '/docker-entrypoint.sh',
      'mkdir -p /tmp/www; echo "<title>Welcome to nginx!</title>" > /tmp/www/index.html; sleep 0.3; exec httpd -f -p 8080 -h /tmp/www',
    ),
    'registry.example/exporter:2.3': programImage(
      '/usr/local/bin/python',
      'wget -q -O- http://localhost:9000/ && echo exported',
    ),
    'andrewgaul/s3proxy:s3proxy-2.9.0': programImage(
      '/opt/s3proxy/run-docker-container.sh',
      'mkdir -p /tmp/www; echo ok > /tmp/www/index.html; sleep 0.5; exec httpd -f -p 127.0.0.1:9000 -h /tmp/www',
    ),
    'registry.example/airflow-task:5.0': programImage(
      '/usr/local/bin/airflow',
      'echo "task $4 done"',
    ),
    // A stand-in for the injected istio-proxy: readiness on 15021, and it quits when something
    // POSTs to 15020 (nc answers one request, then the proxy exits 0 as Envoy's quitquitquit does).
    'istio/proxyv2:emulated': programImage(
      '/usr/local/bin/pilot-agent',
      [
        'sleep 0.5; mkdir -p /tmp/www/healthz; echo ok > /tmp/www/healthz/ready',
        'httpd -p 127.0.0.1:15021 -h /tmp/www',
        'printf "HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nOK\\n" | nc -l -p 15020 > /tmp/request',
        'head -n 1 /tmp/request; exit 0',
      ].join('\n'),
    ),
    'registry.example/report-builder:1.9': programImage(
      '/usr/local/bin/report-builder',
      'cat "$2"',
    ),
    'registry.example/rds-token-refresher:0.4': programImage(
      '/usr/local/bin/refresh-tokens',
      `sleep 0.5; echo "app:token-1" > "$4"; ${SERVE_UNTIL_TERM}`,
    ),
  };
}
