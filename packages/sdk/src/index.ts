export type { Member, Message } from './protocol'
export function connect(url: string): string {
  return url
}
