#!/bin/sh
# Makes what the webhook needs without cert-manager: a CA (ca.crt, ca.key) and a serving
# certificate for its Service signed by it (tls.crt, tls.key), in DIR. Then (docs/webhook.md):
#   kubectl -n kubexit-system create secret tls kubexit-webhook-tls --cert=DIR/tls.crt --key=DIR/tls.key
# and ca.crt, base64, as the caBundle of both webhooks of the MutatingWebhookConfiguration.
set -eu
usage='usage: deploy/make-certificate.sh DIR [NAMESPACE [DAYS]]'
dir=${1:?$usage}
namespace=${2:-kubexit-system}
days=${3:-365}
service=kubexit-webhook
if ! command -v openssl >/dev/null 2>&1; then
  echo "make-certificate.sh: openssl is not installed: install it (apt-get install openssl), or use deploy/cert-manager" >&2
  exit 2
fi
mkdir -p "$dir"
umask 077
curve='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1'
# shellcheck disable=SC2086 # the curve options are words
openssl req -x509 $curve -nodes -days 3650 -subj /CN=kubexit-webhook-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
# shellcheck disable=SC2086
openssl req $curve -nodes -subj "/CN=$service.$namespace.svc" \
  -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' \
  "$service" "$namespace" "$service" "$namespace" >"$dir/tls.ext"
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -days "$days" -extfile "$dir/tls.ext" -out "$dir/tls.crt" 2>/dev/null
rm -f "$dir/tls.csr" "$dir/tls.ext" "$dir/ca.srl"
chmod 0644 "$dir/ca.crt" "$dir/tls.crt"
echo "make-certificate.sh: $dir/tls.crt for $service.$namespace.svc, signed by $dir/ca.crt"
