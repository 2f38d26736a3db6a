/**
 * True when the upgrade's `Origin` may open a socket. Any origin is allowed by
 * default: the widget is embedded on other sites, and auth is a token in
 * `hello`, never a cookie, so a foreign page gains nothing by connecting.
 * Clients without an `Origin` header (servers, bots) are not browsers and pass.
 */
export function originAllowed(allowed: string[] | '*', origin: string | undefined): boolean {
  if (allowed === '*' || origin === undefined) return true
  return allowed.includes(origin)
}
