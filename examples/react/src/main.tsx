import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'

const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root')
createRoot(root).render(
  <StrictMode>
    <App relay={import.meta.env?.VITE_CONFAB_RELAY ?? 'http://localhost:8080'} />
  </StrictMode>,
)
