import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import { RootFs } from '../helpers/chroot-container.ts';
import { IMAGE_TREE } from '../helpers/dist.ts';
import { FakeKubeApi } from '../helpers/fake-kube-api.ts';
import {
  type EmulatedImage,
  emulatorSkip,
  podFromManifest,
  runPod,
} from '../helpers/pod-emulator.ts';

/*
 * kubexit's own example Jobs with only the image swapped (test/kubexit-examples), run in the pod
 * emulator with a fake Kubernetes API server that publishes readiness from the readinessProbes.
 * Their birth dependencies only hold if "ready" means what it means in kubexit: the server's
 * probe passing, not its kubexit having started (both servers take a while to listen).
 */

const IMAGE = IMAGE_TREE;
const skip = emulatorSkip(join(IMAGE, 'opt', 'kubexit', 'kubexit'));

/** A busybox image with stand-ins for the real programs, and kubexit baked in when asked. */
function image(programs: Record<string, string>, withKubexit = false): EmulatedImage {
  return {
    rootfs: () => {
      const root = new RootFs().withBusybox();
      for (const [path, script] of Object.entries(programs))
        root.write(path, `#!/bin/sh\n${script}\n`, 0o755);
      if (withKubexit)
        root
          .copy(join(IMAGE, 'opt', 'kubexit'), '/opt/kubexit')
          .link('/opt/kubexit/kubexit', '/usr/local/bin/kubexit');
      return root;
    },
  };
}

const IMAGES: Record<string, EmulatedImage> = {
  // Ours, exactly as built: /opt/kubexit, /bin/kubexit and /bin/cp.
  'ghcr.io/kubexit/kubexit:0.1.0': { rootfs: () => new RootFs().copyTree(IMAGE) },
  'alpine:3.11': image({
    '/sbin/apk': 'exit 0',
    // curl -v --fail URL: the page, or curl's exit 7 when nothing listens.
    '/usr/bin/curl': 'for url; do :; done; wget -q -O - "$url" || exit 7',
  }),
  // nginx takes a moment to listen after it starts.
  'nginx:1.17-alpine': image({
    '/usr/sbin/nginx':
      'sleep 1; mkdir -p /tmp/www; echo "welcome to nginx" > /tmp/www/index.html; exec httpd -f -p 80 -h /tmp/www',
  }),
  'postgresql-client': image(
    {
      '/usr/local/bin/psql': [
        'if echo | nc -w 1 127.0.0.1 5432 > /tmp/answer 2>&1; then echo " id"; echo "(0 rows)"',
        'else echo "psql: error: could not connect to server: Connection refused" >&2; exit 2; fi',
      ].join('\n'),
    },
    true,
  ),
  // The proxy needs a couple of seconds to connect to Cloud SQL before it listens.
  'cloudsql-proxy-kubexit': image(
    {
      '/usr/local/bin/cloud_sql_proxy': 'sleep 2; mkdir -p /tmp/p; exec httpd -f -p 5432 -h /tmp/p',
    },
    true,
  ),
};

function job(file: string) {
  const text = readFileSync(new URL(`../kubexit-examples/${file}`, import.meta.url), 'utf8');
  return podFromManifest(parseAllDocuments(text).map((d) => d.toJS())[0]);
}

async function withApi(t: Test, podName: string): Promise<FakeKubeApi> {
  const api = new FakeKubeApi('default', podName);
  t.teardown(() => api.close());
  return api;
}

t.test(
  "kubexit's client-server Job: the client waits for the server's readiness probe, both end 0",
  { skip },
  async (t) => {
    const pod = job('client-server-job.yaml');
    const api = await withApi(t, pod.name);
    const result = await runPod(pod, IMAGES, { api });
    t.equal(result.init.kubexit?.code, 0, `cp init container: ${result.init.kubexit?.stderr}`);
    t.equal(result.containers.client?.code, 0, result.containers.client?.stderr ?? '');
    t.match(result.containers.client?.stdout, /welcome to nginx/);
    t.equal(result.containers.server?.code, 0, result.containers.server?.stderr ?? '');
    t.match(result.containers.server?.stderr, /death dependency "client" \(exit 0\) died/);
  },
);

t.test(
  "kubexit's Cloud SQL proxy Job: psql waits for the proxy's readiness probe, both end 0",
  { skip },
  async (t) => {
    const pod = job('cloudsql-proxy-job.yaml');
    const api = await withApi(t, pod.name);
    const result = await runPod(pod, IMAGES, { api });
    t.equal(result.containers.psql?.code, 0, result.containers.psql?.stderr ?? '');
    t.match(result.containers.psql?.stdout, /\(0 rows\)/);
    t.equal(result.containers['cloudsql-proxy']?.code, 0);
  },
);
