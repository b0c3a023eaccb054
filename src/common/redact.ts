// Credentials in urls (`https://user:TOKEN@host/…`) never leave fleet.toml: every url po prints or
// persists shows them as `https://***@host/…`.

// userinfo: everything up to the authority's last '@', never across a space, quote or '/'
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'<>\\`]*)@/gi;
// an ssh login name alone is not a secret, and ssh destinations are shown as written
const SSH = /^(ssh|git\+ssh|ssh\+git):\/\/$/i;

/** `text` (a url, a message, a line of JSON) with the credentials of every url in it replaced by `***`. */
export function redactUrl(text: string): string {
  return text.replace(URL_USERINFO, (all, scheme: string, userinfo: string) =>
    SSH.test(scheme) && !userinfo.includes(":") ? all : `${scheme}***@`,
  );
}

/** A copy of `value` (plain data) with redactUrl applied to every string in it. */
export function redactDeep<T>(value: T): T {
  if (typeof value === "string") return redactUrl(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (typeof value === "object" && value !== null) {
    // fromEntries defines each key as its own property: a key named __proto__ stays a key
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}
