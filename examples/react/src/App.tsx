// <confab-chat> in a React 19 app: no wrapper component. React 19 sets the element's properties
// (`strings` is an object) and adds listeners for its `onconfab-*` props; the type-only import
// below gives those props their types.
import '@confab/widget'
import type { Message } from '@confab/sdk'
import type {} from '@confab/widget/react'
import { useState } from 'react'

const ROOMS = ['support', 'sales'] as const

export function App({ relay }: { relay: string }) {
  const [room, setRoom] = useState<(typeof ROOMS)[number]>('support')
  const [status, setStatus] = useState('idle')
  const [last, setLast] = useState<Message | null>(null)

  return (
    <main>
      <h1>Help center</h1>
      <nav>
        {ROOMS.map((name) => (
          <button key={name} type="button" aria-pressed={room === name} onClick={() => setRoom(name)}>
            {name}
          </button>
        ))}
      </nav>
      <p>
        Connection: {status}
        {last && ` · last message from ${last.from.name}`}
      </p>
      {/* Changing `room` switches the element's room; it reconnects on its own. */}
      <confab-chat
        relay={relay}
        room={room}
        mode="inline"
        theme="auto"
        strings={{ placeholder: `Ask ${room}…` }}
        onconfab-status={(event) => setStatus(event.detail.status)}
        onconfab-message={(event) => setLast(event.detail.message)}
        style={{ display: 'block', height: 480, maxWidth: 420 }}
      />
    </main>
  )
}
