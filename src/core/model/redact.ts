/**
 * Secrets out of everything kubexit prints. Shutdown URLs and http checks may carry credentials
 * (`http://user:password@host/…`, `?token=…`); they are used as given and shown with the
 * credentials replaced by `***`. The logger runs every line and field through this, and so do
 * `status` and the messages printed before a logger exists: one place, whatever the message.
 */

/** A URL with a scheme and an authority, as it may appear inside any text. */
const URL_IN_TEXT = /\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s"'<>`]+/g;
/** Query parameters whose values are credentials by their name. */
const SECRET_PARAMETER =
  /^(?:.*[-_])?(?:token|secret|password|passwd|pwd|key|apikey|api_key|auth|authorization|signature|sig|credential|credentials|session)$/i;

export const REDACTED = '***';

/** `text` with the credentials of every URL in it replaced. */
export function redactSecrets(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, redactUrl);
}

/** One URL with its user information and secret query values replaced. */
export function redactUrl(url: string): string {
  let redacted = url;
  const schemeEnd = redacted.indexOf('://') + 3;
  const authorityEnd = firstOf(redacted, ['/', '?', '#'], schemeEnd);
  const at = redacted.lastIndexOf('@', authorityEnd - 1);
  if (at >= schemeEnd) redacted = `${redacted.slice(0, schemeEnd)}${REDACTED}${redacted.slice(at)}`;
  const query = redacted.indexOf('?');
  if (query < 0) return redacted;
  const fragment = redacted.indexOf('#', query);
  const end = fragment < 0 ? redacted.length : fragment;
  const parameters = redacted
    .slice(query + 1, end)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0) return pair;
      return SECRET_PARAMETER.test(safeDecode(pair.slice(0, equals)))
        ? `${pair.slice(0, equals + 1)}${REDACTED}`
        : pair;
    });
  return `${redacted.slice(0, query + 1)}${parameters.join('&')}${redacted.slice(end)}`;
}

function firstOf(text: string, characters: readonly string[], from: number): number {
  let first = text.length;
  for (const character of characters) {
    const index = text.indexOf(character, from);
    if (index >= 0 && index < first) first = index;
  }
  return first;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
