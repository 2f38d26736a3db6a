/**
 * What `<confab-chat>` extends: HTMLElement in a browser, an empty class on a server, so that importing
 * `@confab/widget` during server-side rendering evaluates without `ReferenceError: HTMLElement is not
 * defined` and registers nothing. The empty class is never constructed: nothing defines the element there.
 */
export const ElementBase: typeof HTMLElement =
  typeof HTMLElement === 'undefined' ? (class {} as unknown as typeof HTMLElement) : HTMLElement
