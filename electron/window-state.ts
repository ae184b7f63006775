// The window's size and position, kept between runs (ignored when that display is gone).
import { screen, type BrowserWindow, type Rectangle } from 'electron'
import { readFileSync, writeFileSync } from 'node:fs'

export interface WindowState {
  bounds: Partial<Rectangle>
  maximized: boolean
}

const DEFAULT: WindowState = { bounds: { width: 1200, height: 800 }, maximized: false }

export function loadWindowState(path: string): WindowState {
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as WindowState
    const { x, y, width, height } = state.bounds
    if (x === undefined || y === undefined || !width || !height) return DEFAULT
    const visible = screen.getAllDisplays().some((d) => x < d.workArea.x + d.workArea.width && x + width > d.workArea.x && y < d.workArea.y + d.workArea.height && y + height > d.workArea.y)
    return visible ? state : { ...DEFAULT, maximized: state.maximized }
  } catch {
    return DEFAULT
  }
}

export function keepWindowState(window: BrowserWindow, path: string): void {
  const save = () => {
    if (window.isDestroyed()) return
    const state: WindowState = { bounds: window.getNormalBounds(), maximized: window.isMaximized() }
    try {
      writeFileSync(path, JSON.stringify(state))
    } catch {
      // a read-only profile: the window opens at the default size next time
    }
  }
  window.on('close', save)
}
