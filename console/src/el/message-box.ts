// ElMessageBox (a question asked before an action taken in one tap) with its style sheet (see
// ../elements.ts).
import 'element-plus/es/components/message-box/style/css'
import { ElMessageBox } from 'element-plus'

export { ElMessageBox }

/**
 * confirmed asks `text` under `title` and resolves true when the `ok` button is chosen, false when
 * the box is closed or `back` is chosen (ElMessageBox rejects then; the rejection is the answer).
 */
export async function confirmed(title: string, text: string, ok: string, back: string): Promise<boolean> {
  try {
    await ElMessageBox.confirm(text, title, { type: 'warning', confirmButtonText: ok, cancelButtonText: back, autofocus: false })
    return true
  } catch {
    return false
  }
}
