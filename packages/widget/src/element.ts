import { connect } from '@confab/sdk'
export class ConfabChat extends HTMLElement {
  url(): string {
    return connect('x')
  }
}
