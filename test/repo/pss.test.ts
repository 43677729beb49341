import t from 'tap';
import { restrictedViolations } from '../helpers/pss.ts';

t.test('the restricted check refuses what pod-security admission refuses', async (t) => {
  const good = {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    volumes: [{ name: 'g', emptyDir: {} }],
    containers: [
      {
        name: 'a',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
  };
  t.same(restrictedViolations(good), []);
  t.match(
    restrictedViolations({
      hostNetwork: true,
      volumes: [{ name: 'h', hostPath: { path: '/' } }],
      containers: [
        { name: 'a', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } },
      ],
    }),
    [
      /hostNetwork/,
      /volume h: type hostPath/,
      /a: privileged/,
      /allowPrivilegeEscalation/,
      /drop ALL/,
      /adds capability SYS_ADMIN/,
      /runAsNonRoot/,
      /seccompProfile/,
    ],
  );
});
