// Cleanup that runs when the test process exits, whatever context registered it (a test,
// a hook or a suite). Node's after() would instead fire when the registering hook ends.
const tasks: (() => void)[] = []

process.once('exit', () => {
  for (const task of tasks.reverse()) {
    try {
      task()
    } catch {
      // best effort: a failed cleanup must not hide the test results
    }
  }
})

/** Registers synchronous work for process exit. */
export function atExit(task: () => void): void {
  tasks.push(task)
}
