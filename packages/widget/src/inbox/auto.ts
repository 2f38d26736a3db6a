// The <script src="/inbox.js"> entry (IIFE) of the page the relay serves at /inbox: registers <confab-inbox>.
import { ConfabInbox } from './element.js'

ConfabInbox.define()
