// What Vite puts on import.meta, for the one variable this example reads.
interface ImportMeta {
  readonly env?: { readonly VITE_CONFAB_RELAY?: string }
}
